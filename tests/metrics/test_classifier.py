"""Tests of the classifier two-sample test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from hepgen.errors import HepgenError
from hepgen.metrics.classifier import classifier_auc, classifier_test, make_classifier


def test_same_distribution_gives_one_half() -> None:
    rng = np.random.default_rng(0)
    truth, generated = rng.normal(size=(3000, 3)), rng.normal(size=(3000, 3))
    assert classifier_auc(truth, generated, seed=1, max_iter=50) == pytest.approx(0.5, abs=0.05)


def test_separated_samples_give_one() -> None:
    rng = np.random.default_rng(1)
    truth, generated = rng.normal(size=(1000, 2)), rng.normal(size=(1500, 2)) + [10.0, 0.0]
    assert classifier_auc(truth, generated, seed=1, max_iter=20) == pytest.approx(1.0, abs=1e-3)


def test_a_moderate_shift_is_seen_below_the_optimal_auc() -> None:
    # Best possible AUC for unit Gaussians shifted by 0.5 in one of three features:
    # Phi(0.5 / sqrt(2)) = 0.638; a trained classifier approaches it from below.
    rng = np.random.default_rng(2)
    truth = pd.DataFrame(rng.normal(size=(4000, 3)), columns=["a", "b", "c"])
    generated = pd.DataFrame(rng.normal(size=(4000, 3)), columns=["a", "b", "c"])
    generated["a"] += 0.5
    auc = classifier_auc(truth, generated, seed=3, max_iter=100)
    assert 0.56 < auc < norm.cdf(0.5 / np.sqrt(2)) + 0.03


def test_weights_are_honoured() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(size=4000)
    flat = rng.uniform(-4.0, 4.0, 4000)
    weighted = classifier_auc(truth, flat, (None, norm.pdf(flat)), seed=0, max_iter=50)
    unweighted = classifier_auc(truth, flat, seed=0, max_iter=50)
    assert weighted == pytest.approx(0.5, abs=0.06)
    assert unweighted > 0.75


def test_equal_weights_fit_the_same_classifier_as_none() -> None:
    # The test leaves out sample_weight when all weights are equal (sklearn's weighted binning
    # is much slower); the fitted trees must be the same.
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(size=(1500, 3)), rng.normal(size=(1500, 3)) + 0.2])
    y = np.repeat([0.0, 1.0], 1500)
    scores = [
        make_classifier(seed=2, max_iter=40).fit(x, y, sample_weight=w).predict_proba(x)[:, 1]
        for w in (None, np.ones(len(y)))
    ]
    np.testing.assert_array_equal(scores[0], scores[1])
    truth, generated = x[:1500], x[1500:]
    unit = (np.full(1500, 2.0), np.ones(1500))
    assert classifier_test(truth, generated, unit, seed=3, max_iter=40) == classifier_test(
        truth, generated, seed=3, max_iter=40
    )


def test_same_seed_same_auc() -> None:
    rng = np.random.default_rng(4)
    truth, generated = rng.normal(size=(600, 2)), rng.normal(size=(800, 2)) + 0.2
    first = classifier_auc(truth, generated, seed=7, max_iter=30)
    assert classifier_auc(truth, generated, seed=7, max_iter=30) == first


def test_too_few_events_says_found_and_needed() -> None:
    rng = np.random.default_rng(5)
    with pytest.raises(HepgenError, match=r"classifier AUC.*at least 40 generated.*found 39"):
        classifier_auc(rng.normal(size=(100, 2)), rng.normal(size=(39, 2)))


def test_nan_in_truth_names_the_column() -> None:
    truth = pd.DataFrame({"met": np.linspace(0.0, 100.0, 100), "met_phi": np.zeros(100)})
    truth.loc[5, "met"] = np.nan
    with pytest.raises(HepgenError, match=r"classifier AUC.*truth.*'met': 1"):
        classifier_auc(truth, truth.fillna(0.0))


def test_unknown_option_is_named() -> None:
    with pytest.raises(HepgenError, match="max_depht"):
        make_classifier(seed=0, options={"max_depht": 3})
    assert make_classifier(seed=4, options={"max_leaf_nodes": 7}).get_params()["random_state"] == 4


def test_uncertainty_covers_the_spread_over_independent_samples() -> None:
    # The bootstrap uncertainty of the scored events should match the spread of the AUC
    # over independent truth/generated pairs (same classifier settings).
    rng = np.random.default_rng(6)
    aucs, errs = [], []
    for _ in range(6):
        truth = rng.normal(size=(800, 2))
        generated = rng.normal(size=(800, 2)) + [0.4, 0.0]
        auc, err = classifier_test(truth, generated, seed=1, max_iter=30, bootstrap=20)
        aucs.append(auc)
        errs.append(err)
    assert 0.3 * np.std(aucs) < np.mean(errs) < 3 * np.std(aucs)


def test_missing_values_are_accepted_only_when_asked() -> None:
    rng = np.random.default_rng(7)
    truth = pd.DataFrame({"m_jj_w": rng.normal(80.0, 10.0, 400), "ht": rng.normal(300, 50, 400)})
    generated = truth.copy()
    generated.loc[::2, "m_jj_w"] = np.nan  # half the events without a W candidate
    with pytest.raises(HepgenError, match="NaN or infinite"):
        classifier_auc(truth, generated)
    # The trees see the missing pattern, which the truth never shows: far from 0.5.
    assert classifier_auc(truth, generated, allow_missing=True, max_iter=20) > 0.7
    generated.loc[1, "ht"] = np.inf
    with pytest.raises(HepgenError, match=r"infinite values in columns 'ht': 1"):
        classifier_auc(truth, generated, allow_missing=True)


def test_a_column_missing_everywhere_is_left_out() -> None:
    rng = np.random.default_rng(5)
    truth = pd.DataFrame({"x": rng.normal(size=800), "m_jj": np.nan})
    generated = pd.DataFrame({"x": rng.normal(0.5, 1.0, 800), "m_jj": np.nan})
    auc, _ = classifier_test(truth, generated, seed=1, max_iter=30, allow_missing=True)
    assert 0.6 < auc < 0.75  # the shift of x, as without the empty column


def test_a_column_with_a_few_values_is_left_out_whatever_the_early_stopping_split(caplog) -> None:
    """A handful of values can all land in the early-stopping hold-out, where sklearn could
    not bin the column: such a column is left out, and the log names it."""
    rng = np.random.default_rng(6)
    truth = pd.DataFrame({"x": rng.normal(size=800), "m_jj": np.nan})
    generated = pd.DataFrame({"x": rng.normal(0.5, 1.0, 800), "m_jj": np.nan})
    truth.loc[:2, "m_jj"] = [80.0, 81.0, 79.0]  # three truth events with a dijet
    with caplog.at_level("INFO", logger="hepgen.metrics.classifier"):
        aucs = [
            classifier_test(truth, generated, seed=s, max_iter=30, allow_missing=True)[0]
            for s in range(12)
        ]
    assert all(0.55 < auc < 0.7 for auc in aucs)  # the shift of x alone (optimum 0.64)
    assert "left out of the classifier: ['m_jj']" in caplog.text
