"""Tests of the per-condition W1 and of the conditional sections of the evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastsim_objects import fastsim

from hepgen.errors import HepgenError
from hepgen.metrics.conditional import condition_edges, conditional_w1
from hepgen.metrics.evaluation import evaluate
from hepgen.metrics.record import write_metrics
from hepgen.metrics.wasserstein import w1_1d

FEATURES = ["x", "y"]


def conditioned(n: int, seed: int, *, ignore_condition: bool = False, y_shift: float = 0.0):
    """x | c ~ N(c, 0.5), y | c ~ Exp(1) + shift; c ~ N(0, 1). ``ignore_condition``: x is drawn
    for another event's c, so the marginal of x is right and x | c is wrong."""
    rng = np.random.default_rng(seed)
    c = rng.normal(0.0, 1.0, n)
    source = rng.permutation(c) if ignore_condition else c
    return pd.DataFrame(
        {
            "c": c,
            "x": rng.normal(source, 0.5),
            "y": rng.exponential(1.0, n) + y_shift,
        }
    )


def w1_bins(result: dict, condition: str = "c") -> list[dict]:
    return result["conditions"][condition]["bins"]


def test_same_distribution_sits_at_the_floor_and_a_shift_far_above() -> None:
    truth = conditioned(20_000, 0)
    same = conditional_w1(
        truth, conditioned(20_000, 1), conditions=["c"], features=["c", *FEATURES], seed=2
    )
    assert same["features"] == FEATURES  # the condition is not compared with itself
    assert same["bins"] == 5 and len(w1_bins(same)) == 5
    edges = same["conditions"]["c"]["edges"]
    assert edges == pytest.approx(np.quantile(truth["c"], np.linspace(0, 1, 6)), abs=1e-3)
    for b in w1_bins(same):
        assert b["n_truth"] == pytest.approx(4000, abs=1)
        assert b["n_compared"] == min(b["n_truth"] // 2, b["n_generated"])
        for name in FEATURES:
            e = b["w1"]["features"][name]
            assert abs(e["value"] - e["floor"]) < 4 * np.hypot(e["err"], e["floor_err"])
            assert e["floor"] < 0.06  # sampling noise of 2000 vs 2000 events
    shifted = conditional_w1(
        truth, conditioned(20_000, 1, y_shift=0.3), conditions=["c"], features=FEATURES, seed=2
    )
    for b in w1_bins(shifted):
        y = b["w1"]["features"]["y"]
        assert y["value"] > 5 * y["floor"]
        # a shift of 0.3 in a bin where sigma_truth(y) = 1
        assert y["value"] == pytest.approx(0.3, abs=4 * y["err"])
    mean = shifted["conditions"]["c"]["mean"]
    assert mean["value"] > 3 * mean["floor"]


def test_a_generator_ignoring_its_condition_is_seen_in_every_bin() -> None:
    truth = conditioned(20_000, 3)
    blind = conditioned(20_000, 4, ignore_condition=True)
    # the marginal of x is right ...
    assert w1_1d(truth["x"].to_numpy(), blind["x"].to_numpy()) < 0.03
    result = conditional_w1(truth, blind, conditions=["c"], features=FEATURES, seed=5)
    # ... but x | c is not: far above the floor in every bin, most in the outer ones
    values = [b["w1"]["features"]["x"]["value"] for b in w1_bins(result)]
    floors = [b["w1"]["features"]["x"]["floor"] for b in w1_bins(result)]
    assert all(v > 10 * f for v, f in zip(values, floors, strict=True))
    assert values[0] > values[2] and values[4] > values[2]


def test_weights_are_used() -> None:
    truth = conditioned(20_000, 8)
    generated = conditioned(20_000, 9)
    offset = generated["x"] - generated["c"] + 0.5  # x | c ~ N(c + 0.5, 0.5) ...
    generated["x"] = generated["c"] + offset
    # ... weighted back to N(c, 0.5): w = N(x; c, 0.5) / N(x; c + 0.5, 0.5)
    generated["weight"] = np.exp(-2.0 * offset + 0.5)
    weighted, plain = (
        conditional_w1(truth, generated, conditions=["c"], features=["x"], seed=1, **kw)
        for kw in ({}, {"weights_column": None})
    )
    for w, p in zip(w1_bins(weighted), w1_bins(plain), strict=True):
        assert w["w1"]["features"]["x"]["value"] < p["w1"]["features"]["x"]["value"] / 3
        assert p["w1"]["features"]["x"]["value"] > 10 * p["w1"]["features"]["x"]["floor"]


def test_absent_objects_and_discrete_conditions() -> None:
    rng = np.random.default_rng(6)
    n = 6000
    truth = pd.DataFrame(
        {
            "njet": rng.integers(1, 3, n).astype(float),  # 1 or 2 jets: two bins only
            "jet2_pt": rng.exponential(30.0, n) + 20.0,
            "weight": rng.uniform(0.5, 1.5, n),
        }
    )
    truth.loc[truth["njet"] == 1, "jet2_pt"] = 0.0  # absent second jet
    result = conditional_w1(truth, truth, conditions=["njet"], features=["jet2_pt"], seed=1)
    assert result["conditions"]["njet"]["edges"] == [1.0, 1.5, 2.0]  # one bin per value
    one_jet, two_jets = w1_bins(result, "njet")
    # no second jet in one-jet events: nothing to compare there
    assert one_jet["w1"] == {"features": {}, "skipped": ["jet2_pt"]}
    assert two_jets["w1"]["features"]["jet2_pt"]["value"] < 0.1
    np.testing.assert_array_equal(condition_edges(np.array([3.0, 3.0]), None, 5), [3.0])
    json.dumps(result, allow_nan=False)


def test_bad_input_is_named() -> None:
    truth = conditioned(500, 7)
    with pytest.raises(HepgenError, match="no condition columns"):
        conditional_w1(truth, truth, conditions=[], features=FEATURES, seed=1)
    with pytest.raises(HepgenError, match="no feature columns besides the conditions"):
        conditional_w1(truth, truth, conditions=["c"], features=["c"], seed=1)
    with pytest.raises(HepgenError, match=r"generated table lacks the condition columns \['c'\]"):
        conditional_w1(truth, truth.drop(columns="c"), conditions=["c"], features=FEATURES, seed=1)
    with pytest.raises(HepgenError, match=r"truth table lacks the feature columns \['z'\]"):
        conditional_w1(truth, truth, conditions=["c"], features=["z"], seed=1)


OPTIONS = {"bootstrap": 6, "classifier": {"max_iter": 30}}
FAST_SIM = ["reco_found", "reco_response", "reco_deta", "reco_dphi"]


def test_evaluate_adds_the_conditional_sections_only_for_a_conditional_model(
    tmp_path: Path,
) -> None:
    truth, generated = fastsim(8_000, 0), fastsim(8_000, 1, widen=1.3)
    features = ["gen_pt", "gen_eta", "gen_phi", *FAST_SIM]
    plain = evaluate(truth, generated, features=features, seed=1, options=OPTIONS)
    assert "conditional" not in plain and "response" not in plain
    conditions = ["gen_pt", "gen_eta", "gen_phi"]
    result = evaluate(
        truth, generated, features=features, seed=1, options=OPTIONS, condition=conditions
    )
    assert set(result["conditional"]["conditions"]) == set(conditions)
    assert result["conditional"]["features"] == FAST_SIM
    assert result["response"]["summary"]["resolution"]["response"]["worst_deviation"] > 0.2
    assert result["response"]["n_bootstrap"] == OPTIONS["bootstrap"]
    assert {"conditional", "response"} <= set(result["seconds"])
    for key in ("auc", "w1", "fpd"):
        assert result[key] == plain[key]  # the other metrics are untouched
    write_metrics(tmp_path / "m.json", result)  # JSON without NaN
    # a conditional model on a table without the fast-simulation columns: no response section
    other = evaluate(
        truth.drop(columns=FAST_SIM[:2]),
        generated.drop(columns=FAST_SIM[:2]),
        features=["gen_pt", "gen_eta", "reco_deta"],
        seed=1,
        options=OPTIONS,
        condition=["gen_pt"],
    )
    assert "response" not in other and other["conditional"]["features"] == ["gen_eta", "reco_deta"]
