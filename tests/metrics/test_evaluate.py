"""Tests of evaluate(): every metric beside its truth-vs-truth floor, input errors, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.evaluation import evaluate
from hepgen.metrics.record import summary, write_metrics

FEATURES = ["mu1_pt", "mu1_eta", "met"]
OPTIONS = {"bootstrap": 8, "classifier": {"max_iter": 40}}
FAMILIES = ["w1", "ks", "separation", "chi2_ndf", "quantile_mse", "tail_99", "tail_999"]


def _events(seed: int, n: int, *, pt_shift: float = 0.0, weight: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "mu1_pt": rng.exponential(20.0, n) + 25.0 + pt_shift,  # GeV
            "mu1_eta": rng.normal(0.0, 1.2, n),
            "met": rng.exponential(10.0, n),  # GeV
        }
    )
    if weight:
        table["weight"] = rng.uniform(0.5, 1.5, n)
    return table


def _entries(record: dict) -> list[dict]:
    """Every {value, err, floor, floor_err} entry of a record."""
    found = []
    for value in record.values():
        if isinstance(value, dict):
            found += [value] if "floor" in value else _entries(value)
    return found


def test_a_faithful_generator_scores_at_the_floor() -> None:
    result = evaluate(
        _events(0, 3000), _events(1, 5000), features=FEATURES, seed=2, options=OPTIONS
    )
    assert (result["n_truth"], result["n_generated"], result["n_compared"]) == (3000, 5000, 1500)
    assert result["n_splits"] == 10  # the 1D metrics average ten random splits of the truth
    assert result["auc"]["value"] == pytest.approx(0.5, abs=0.05)
    assert result["auc"]["floor"] == pytest.approx(0.5, abs=0.05)
    for family in FAMILIES:
        assert list(result[family]["features"]) == FEATURES
        mean = result[family]["mean"]
        # value and floor agree within their statistical uncertainties
        assert abs(mean["value"] - mean["floor"]) < 4 * np.hypot(mean["err"], mean["floor_err"])
    values = [result["w1"]["features"][name]["value"] for name in FEATURES]
    assert result["w1"]["mean"]["value"] == pytest.approx(np.mean(values))
    entries = _entries(result)
    assert len(entries) == 7 * 4 + 4  # families x (3 features + mean), spearman, auc, fpd, kpd
    assert all(np.isfinite(list(e.values())).all() and e["err"] >= 0 for e in entries)
    # (a tail with no event above the 99.9 % quantile in any resample has err 0)
    assert all(e["err"] > 0 for e in _entries({k: result[k] for k in FAMILIES[:5]}))
    assert "memorisation" not in result  # no training split given
    assert result["seconds"]["total"] > 0


def test_a_shifted_generator_scores_far_above_the_floor() -> None:
    result = evaluate(
        _events(0, 3000), _events(1, 3000, pt_shift=8.0), features=FEATURES, seed=2, options=OPTIONS
    )
    pt = result["w1"]["features"]["mu1_pt"]
    assert pt["value"] > 5 * pt["floor"]
    assert pt["value"] == pytest.approx(8.0 / 20.0, abs=0.1)  # shift / sigma of Exp(20 GeV)
    # Optimal AUC: truth events below 25 + 8 GeV are told apart, the rest are a coin flip,
    # 0.5 * (1 + P(x < 8 GeV)) = 0.665.
    assert result["auc"]["value"] == pytest.approx(1.0 - 0.5 * np.exp(-0.4), abs=0.04)
    assert result["auc"]["value"] - result["auc"]["floor"] > 5 * result["auc"]["err"]
    ks = result["ks"]["features"]["mu1_pt"]
    assert ks["value"] == pytest.approx(1 - np.exp(-0.4), abs=0.04)  # max CDF difference at 33 GeV


def test_dimuon_events_get_observables_and_data_copying(dimuon) -> None:
    truth, train = dimuon(1600, 0), dimuon(2400, 1)
    features = [c for c in truth.columns if c != "weight"]
    scale = train[features].std().to_numpy()

    def embed(table: pd.DataFrame) -> np.ndarray:
        return table[features].to_numpy() / scale

    rng = np.random.default_rng(2)
    replayed = train.iloc[rng.integers(0, len(train), 1600)].reset_index(drop=True)
    smeared = dimuon(1600, 3, width=12.0)  # right kinematics, Z peak five times too wide
    options = {**OPTIONS, "memorisation": {"cells": 4}}
    copy = evaluate(
        truth, replayed, features=features, seed=4, options=options, train=train, embed=embed
    )
    wide = evaluate(
        truth, smeared, features=features, seed=4, options=options, train=train, embed=embed
    )
    # Replayed training events are as good as truth for every fidelity metric...
    assert copy["auc"]["value"] == pytest.approx(0.5, abs=0.06)
    assert (
        copy["w1_obs"]["observables"]["m_mumu"]["value"]
        < 3 * copy["w1_obs"]["observables"]["m_mumu"]["floor"] + 0.05
    )
    # ... but the data-copying test sees them, and its floor does not.
    assert copy["memorisation"]["z_u"]["value"] < -10
    assert abs(copy["memorisation"]["z_u"]["floor"]) < 3
    assert copy["memorisation"]["distance_ratio"]["value"] < 0.2
    # The widened peak shows in m_mumu far more than in any single feature.
    m_ll = wide["w1_obs"]["observables"]["m_mumu"]
    assert m_ll["value"] > 5 * m_ll["floor"]
    assert set(wide["observables"]) == {"m_mumu", "pt_mumu", "y_mumu", "dr_mumu", "mt"}


def test_same_seed_same_output_and_json_ready(tmp_path: Path) -> None:
    truth, generated = _events(0, 400, weight=True), _events(1, 300, pt_shift=2.0)
    first = evaluate(truth, generated, features=FEATURES, seed=5, options=OPTIONS)
    second = evaluate(truth, generated, features=FEATURES, seed=5, options=OPTIONS)
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    # Fewer generated events than half the truth: both comparisons use that many.
    assert first["n_compared"] == 200
    path = tmp_path / "metrics" / "vae.json"
    write_metrics(path, {**first, "model": "vae"})
    assert json.loads(path.read_text())["auc"] == first["auc"]
    assert "AUC" in summary(first)
    different = evaluate(truth, generated, features=FEATURES, seed=6, options=OPTIONS)
    assert different["auc"] != first["auc"]


def test_models_of_one_dataset_share_every_floor() -> None:
    """Samples of different sizes (the selection drops a model-dependent number of events)
    are judged against the same truth halves, splits and classifier floor, so that AUC − floor
    ranks the models by their AUC alone."""
    truth = _events(0, 2000)
    close, shifted = _events(1, 1900), _events(2, 1700, pt_shift=3.0)
    first = evaluate(truth, close, features=FEATURES, seed=5, options=OPTIONS)
    second = evaluate(truth, shifted, features=FEATURES, seed=5, options=OPTIONS)
    assert first["n_compared"] == second["n_compared"] == 1000
    floors = [e["floor"] for e in _entries(first)]
    assert floors == [e["floor"] for e in _entries(second)]
    assert len(floors) == len(_entries(first)) > 30
    assert first["auc"]["value"] != second["auc"]["value"]


def test_weights_column_is_used() -> None:
    truth = _events(0, 4000)
    # Generated with a harder pT spectrum, reweighted back to the truth's exponential slope.
    rng = np.random.default_rng(9)
    generated = _events(1, 4000)
    generated["mu1_pt"] = rng.exponential(30.0, 4000) + 25.0
    x = generated["mu1_pt"] - 25.0
    generated["weight"] = np.exp(-x / 20.0 + x / 30.0)
    weighted = evaluate(truth, generated, features=FEATURES, seed=1, options=OPTIONS)
    ignored = evaluate(
        truth, generated, features=FEATURES, seed=1, options=OPTIONS, weights_column=None
    )
    assert weighted["w1"]["features"]["mu1_pt"]["value"] < 0.12
    assert ignored["w1"]["features"]["mu1_pt"]["value"] > 0.35
    assert ignored["auc"]["value"] > weighted["auc"]["value"] + 0.05


def test_nan_error_names_model_column_and_count() -> None:
    generated = _events(1, 500)
    generated.loc[[1, 2, 3], "met"] = np.nan
    with pytest.raises(
        HepgenError, match=r"model 'dy_mumu/vae'.*generated.*'met': 3 of 500"
    ) as error:
        evaluate(_events(0, 500), generated, features=FEATURES, seed=0, model="dy_mumu/vae")
    assert "mu1_pt" not in str(error.value)


def test_missing_columns_are_listed() -> None:
    with pytest.raises(HepgenError, match=r"model 'gan'.*truth table lacks.*\['jet1_pt', 'n_mu'\]"):
        evaluate(
            _events(0, 500),
            _events(1, 500),
            features=[*FEATURES, "jet1_pt", "n_mu"],
            seed=0,
            model="gan",
        )


def test_too_few_events_says_found_and_needed() -> None:
    with pytest.raises(HepgenError, match="at least 80 truth.*found 79"):
        evaluate(_events(0, 79), _events(1, 500), features=FEATURES, seed=0)
    with pytest.raises(HepgenError, match="at least 40 generated events, found 12"):
        evaluate(_events(0, 500), _events(1, 12), features=FEATURES, seed=0)


def _with_optional_jet(seed: int, n: int, present: float) -> pd.DataFrame:
    """The events above plus one jet that is present in a fraction ``present`` of them."""
    rng = np.random.default_rng(seed + 100)
    table = _events(seed, n)
    there = rng.random(n) < present
    table["jet1_pt"] = np.where(there, rng.exponential(30.0, n) + 30.0, 0.0)
    table["jet1_eta"] = np.where(there, rng.normal(0.0, 1.5, n), 0.0)
    return table


def test_per_object_metrics_compare_present_objects_only() -> None:
    columns = [*FEATURES, "jet1_pt", "jet1_eta"]
    truth = _with_optional_jet(1, 6000, present=0.4)
    # the same jets, present twice as often: the jet marginals agree, the multiplicity does not
    generated = _with_optional_jet(2, 6000, present=0.8)
    record = evaluate(truth, generated, features=columns, seed=0, options=OPTIONS)
    for name in ("jet1_pt", "jet1_eta"):
        w1 = record["w1"]["features"][name]
        assert w1["value"] < w1["floor"] + 4 * max(w1["err"], w1["floor_err"]), name
    # over all events (padding included) the same jets would look very different
    padded = evaluate(
        truth.assign(jet1_pt=truth["jet1_pt"] + 1e-9),  # never 0: no object absent
        generated.assign(jet1_pt=generated["jet1_pt"] + 1e-9),
        features=columns,
        seed=0,
        options=OPTIONS,
    )
    assert (
        padded["w1"]["features"]["jet1_pt"]["value"]
        > 5 * record["w1"]["features"]["jet1_pt"]["value"]
    )
    assert record["auc"]["value"] > 0.6  # the classifier still sees the whole event


def test_an_observable_only_the_generated_events_have_is_reported_not_fatal(dimuon) -> None:
    """Truth with one muon per event, a generator that adds a second one: m_mumu exists only
    in the generated events (e.g. an optional second lepton); the evaluation still completes."""
    truth, generated = dimuon(1600, 0), dimuon(1600, 1)
    second = ["mu2_pt", "mu2_eta", "mu2_phi", "mu2_e"]
    truth.loc[:, second] = 0.0  # zero padding: the truth never has a second muon
    features = [c for c in truth.columns if c != "weight"]
    result = evaluate(truth, generated, features=features, seed=4, options=OPTIONS)
    assert result["observables"]["m_mumu"]["truth"] == 0.0
    assert result["observables"]["m_mumu"]["generated"] > 0.99
    assert "m_mumu" not in result["tail_99"]["observables"]
