"""Tests of evaluate(): values beside truth-vs-truth floors, input errors, reproducibility."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepgen.metrics.evaluate import evaluate, summary, write_metrics
from hepgen.runtime import HepgenError

FEATURES = ["mu1_pt", "mu1_eta", "met"]
CLASSIFIER = {"max_iter": 40}


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


def test_a_faithful_generator_scores_at_the_floor() -> None:
    result = evaluate(
        _events(0, 3000), _events(1, 5000), features=FEATURES, seed=2, classifier=CLASSIFIER
    )
    assert (result["n_truth"], result["n_generated"], result["n_compared"]) == (3000, 5000, 1500)
    assert result["auc"]["value"] == pytest.approx(0.5, abs=0.05)
    assert result["auc"]["floor"] == pytest.approx(0.5, abs=0.05)
    for name in FEATURES:
        entry = result["w1"]["features"][name]
        # 1500 vs 1500 events: statistical W1 of order a few % of sigma, for both.
        assert entry["floor"] < 0.1
        assert entry["value"] < 0.1
    values = [result["w1"]["features"][name]["value"] for name in FEATURES]
    assert result["w1"]["mean"]["value"] == pytest.approx(np.mean(values))


def test_a_shifted_generator_scores_far_above_the_floor() -> None:
    result = evaluate(
        _events(0, 3000),
        _events(1, 3000, pt_shift=8.0),
        features=FEATURES,
        seed=2,
        classifier=CLASSIFIER,
    )
    pt = result["w1"]["features"]["mu1_pt"]
    assert pt["value"] > 5 * pt["floor"]
    assert pt["value"] == pytest.approx(8.0 / 20.0, abs=0.1)  # shift / sigma of Exp(20 GeV)
    # Optimal AUC: truth events below 25 + 8 GeV are told apart, the rest are a coin flip,
    # 0.5 * (1 + P(x < 8 GeV)) = 0.5 * (1 + 1 - exp(-8 / 20)) = 0.665.
    assert result["auc"]["value"] == pytest.approx(1.0 - 0.5 * np.exp(-0.4), abs=0.04)
    assert result["auc"]["floor"] == pytest.approx(0.5, abs=0.05)
    assert result["w1"]["mean"]["value"] > 3 * result["w1"]["mean"]["floor"]


def test_same_seed_same_output_and_json_ready(tmp_path: Path) -> None:
    truth, generated = _events(0, 400, weight=True), _events(1, 300, pt_shift=2.0)
    first = evaluate(truth, generated, features=FEATURES, seed=5, classifier=CLASSIFIER)
    second = evaluate(truth, generated, features=FEATURES, seed=5, classifier=CLASSIFIER)
    assert first == second
    # Fewer generated events than half the truth: both comparisons use that many.
    assert first["n_compared"] == 200
    path = tmp_path / "metrics" / "vae.json"
    write_metrics(path, {**first, "model": "vae"})
    assert json.loads(path.read_text())["auc"] == first["auc"]
    assert "AUC" in summary(first)
    different = evaluate(truth, generated, features=FEATURES, seed=6, classifier=CLASSIFIER)
    assert different != first


def test_weights_column_is_used() -> None:
    truth = _events(0, 4000)
    # Generated with a harder pT spectrum, reweighted back to the truth's exponential slope.
    rng = np.random.default_rng(9)
    generated = _events(1, 4000)
    generated["mu1_pt"] = rng.exponential(30.0, 4000) + 25.0
    x = generated["mu1_pt"] - 25.0
    generated["weight"] = np.exp(-x / 20.0 + x / 30.0)
    weighted = evaluate(truth, generated, features=FEATURES, seed=1, classifier=CLASSIFIER)
    ignored = evaluate(
        truth, generated, features=FEATURES, seed=1, classifier=CLASSIFIER, weights_column=None
    )
    pt_weighted = weighted["w1"]["features"]["mu1_pt"]["value"]
    assert pt_weighted < 0.12
    assert ignored["w1"]["features"]["mu1_pt"]["value"] > 0.35
    assert ignored["auc"]["value"] > weighted["auc"]["value"] + 0.05


def test_nan_error_names_column_and_count() -> None:
    generated = _events(1, 500)
    generated.loc[[1, 2, 3], "met"] = np.nan
    with pytest.raises(HepgenError, match=r"evaluate.*generated.*'met': 3 of 500") as error:
        evaluate(_events(0, 500), generated, features=FEATURES, seed=0)
    assert "mu1_pt" not in str(error.value)


def test_missing_columns_are_listed() -> None:
    with pytest.raises(HepgenError, match=r"truth table lacks.*\['jet1_pt', 'n_mu'\]"):
        evaluate(_events(0, 500), _events(1, 500), features=[*FEATURES, "jet1_pt", "n_mu"], seed=0)


def test_too_few_events_says_found_and_needed() -> None:
    with pytest.raises(HepgenError, match="at least 80 truth.*found 79"):
        evaluate(_events(0, 79), _events(1, 500), features=FEATURES, seed=0)
    with pytest.raises(HepgenError, match="at least 40 generated events, found 12"):
        evaluate(_events(0, 500), _events(1, 12), features=FEATURES, seed=0)


def test_non_finite_result_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    with pytest.raises(HepgenError, match="NaN or infinity"):
        write_metrics(path, {"auc": {"value": math.nan}})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
