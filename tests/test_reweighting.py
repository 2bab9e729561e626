"""Classifier reweighting: the weights turn generated events into the truth's distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.reweighting import effective_sample_size, fit_reweighter, refine_options, reweight

FEATURES = ["met", "met_phi"]


def events(n: int, shift: float, seed: int, width: float = 1.0) -> pd.DataFrame:
    """MET-like events: log-normal magnitude (shifted in log), uniform angle."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "met": np.exp(3.0 + shift + width * 0.5 * rng.normal(size=n)),
            "met_phi": rng.uniform(-np.pi, np.pi, size=n),
        }
    )


def test_weights_move_a_shifted_sample_onto_the_truth() -> None:
    truth = events(4000, 0.0, seed=1)
    generated = events(8000, 0.25, seed=2)
    weights, info = reweight(truth, generated, features=FEATURES, seed=3, folds=4, clip=20.0)
    log_met = np.log(generated["met"])
    target = np.log(truth["met"]).mean()
    assert abs(log_met.mean() - target) > 0.2  # plain: off by the shift
    assert abs(np.average(log_met, weights=weights) - target) < 0.05
    assert weights.shape == (8000,) and np.isfinite(weights).all() and (weights >= 0).all()
    assert weights.mean() == pytest.approx(1.0)
    assert info["ess"] == pytest.approx(effective_sample_size(weights))
    assert 0.2 < info["ess_fraction"] < 1.0
    assert info["n_truth"] == 4000 and info["n_generated"] == 8000


def test_the_kept_classifiers_weight_new_events_onto_the_truth() -> None:
    """What a refined generator file carries: every fold's classifier weights fresh events."""
    truth = events(4000, 0.0, seed=1)
    generated = events(8000, 0.25, seed=2)
    weights, info, reweighter = fit_reweighter(
        truth, generated, features=FEATURES, seed=3, folds=4, clip=20.0
    )
    np.testing.assert_array_equal(
        weights, reweight(truth, generated, features=FEATURES, seed=3, folds=4, clip=20.0)[0]
    )
    assert len(reweighter.classifiers) == 4 and reweighter.record == info
    assert reweighter.features == FEATURES and reweighter.clip == 20.0
    assert reweighter.classifiers[0].columns[:2] == FEATURES
    fresh = events(8000, 0.25, seed=12)
    w = reweighter.ratio(fresh) / reweighter.norm  # normalised as at refine time
    assert w.mean() == pytest.approx(1.0, abs=0.05)
    target = np.log(truth["met"]).mean()
    assert abs(np.average(np.log(fresh["met"]), weights=w) - target) < 0.05


def test_equal_distributions_get_weights_near_one() -> None:
    """No generated event is scored by a classifier that saw it: nothing to overfit."""
    weights, info = reweight(
        events(3000, 0.0, seed=4), events(6000, 0.0, seed=5), features=FEATURES, seed=1
    )
    assert info["ess_fraction"] > 0.95
    assert np.median(np.abs(weights - 1.0)) < 0.1


def test_a_region_the_generator_misses_is_clipped_and_counted() -> None:
    truth = events(4000, 0.0, seed=6, width=2.0)  # wide: tails the narrow generator lacks
    generated = events(8000, 0.0, seed=7, width=0.5)
    clip = 3.0
    weights, info = reweight(truth, generated, features=FEATURES, seed=2, clip=clip)
    assert info["clipped"] > 0
    # the clipped events all sit at the bound (clip, normalised with the rest to mean 1)
    assert weights.max() == pytest.approx(info["max_weight"])
    assert np.count_nonzero(np.isclose(weights, weights.max(), rtol=1e-12)) == info["clipped"]


def test_same_seed_same_weights() -> None:
    truth, generated = events(1000, 0.0, seed=8), events(2000, 0.1, seed=9)
    a, _ = reweight(truth, generated, features=FEATURES, seed=5)
    b, _ = reweight(truth, generated, features=FEATURES, seed=5)
    np.testing.assert_array_equal(a, b)


def test_truth_weights_count() -> None:
    """A truth event of weight 2 counts as two events of weight 1."""
    truth = events(2000, 0.0, seed=10)
    doubled = pd.concat([truth, truth[truth["met"] > 20.0]], ignore_index=True)
    weighted = truth.assign(weight=np.where(truth["met"] > 20.0, 2.0, 1.0))
    generated = events(4000, 0.0, seed=11)
    a, _ = reweight(doubled, generated, features=FEATURES, seed=1)
    b, _ = reweight(weighted, generated, features=FEATURES, seed=1)
    high = generated["met"].to_numpy() > 20.0
    assert np.average(high, weights=a) == pytest.approx(np.average(high, weights=b), abs=0.03)
    assert np.average(high, weights=b) > high.mean() + 0.05


def test_too_few_events_for_the_folds() -> None:
    with pytest.raises(
        HepgenError, match="needs at least 10 truth and generated events for 5 folds"
    ):
        reweight(events(8, 0.0, seed=1), events(100, 0.0, seed=2), features=FEATURES, seed=1)


def test_non_finite_generated_values_are_refused() -> None:
    generated = events(100, 0.0, seed=2)
    generated.loc[3, "met"] = np.nan
    with pytest.raises(HepgenError, match="met"):
        reweight(events(100, 0.0, seed=1), generated, features=FEATURES, seed=1)


@pytest.mark.parametrize(
    ("section", "entry", "expected"),
    [
        ({}, None, None),
        ({}, False, None),
        ({}, True, {"folds": 5, "clip": 20.0, "classifier": {"max_iter": 200}}),
        ({"folds": 3}, True, {"folds": 3, "clip": 20.0, "classifier": {"max_iter": 200}}),
        ({"folds": 3}, {"clip": 5}, {"folds": 3, "clip": 5.0, "classifier": {"max_iter": 200}}),
    ],
)
def test_refine_options_merge_the_section_and_the_entry(section, entry, expected) -> None:
    assert refine_options(section, entry) == expected


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"folds": 1}, "refine.folds must be an integer >= 2, found 1"),
        ({"clip": 1.0}, "refine.clip must be a number > 1, found 1.0"),
        ({"fold": 3}, r"unknown key\(s\) \['fold'\]"),
        ({"classifier": 3}, "refine.classifier must be a mapping"),
    ],
)
def test_bad_refine_options_name_the_key(entry, message) -> None:
    with pytest.raises(HepgenError, match=message):
        refine_options({}, entry)
