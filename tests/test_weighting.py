"""Boosted trees as plain arrays: the NumPy evaluator gives scikit-learn's probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from hepgen.errors import HepgenError
from hepgen.weighting import Reweighter, Trees, classifier_inputs, trees_from_sklearn

COLUMNS = ["a", "b", "c", "d"]


def labelled(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) inputs with NaN in every column (all of column d in half the events), labels 0/1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 - np.abs(x[:, 2]) + rng.normal(size=n) > 0).astype(float)
    x[rng.random((n, 4)) < 0.1] = np.nan
    x[rng.random(n) < 0.5, 3] = np.nan
    return x, y


@pytest.fixture(scope="module")
def fitted() -> HistGradientBoostingClassifier:
    x, y = labelled(3000, seed=1)
    weights = np.where(y == 1, 1.5, 1.0)
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=2)
    return model.fit(x, y, sample_weight=weights)


def test_the_evaluator_gives_sklearns_probabilities_with_missing_values(fitted):
    x, _ = labelled(4000, seed=3)
    x[:50] = np.nan  # every input missing
    x[50:100, 0] = np.nan  # missing at prediction in the most used column
    x[100:150] = [1e300, -1e300, 0.0, 3.0]  # far outside the binned range
    trees = trees_from_sklearn(fitted, COLUMNS)
    assert len(trees.roots) == fitted.n_iter_
    np.testing.assert_allclose(trees.proba(x), fitted.predict_proba(x)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trees.raw(x), fitted._raw_predict(x)[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(trees.raw(x[:7]), trees.raw(x)[:7])  # events are independent


def test_the_state_round_trips_through_plain_arrays(fitted):
    trees = trees_from_sklearn(fitted, COLUMNS)
    state = trees.to_state()
    assert set(state) == {"columns", "baseline", "nodes", "roots"}
    again = Trees.from_state({**state, "nodes": {k: list(v) for k, v in state["nodes"].items()}})
    x, _ = labelled(500, seed=4)
    np.testing.assert_array_equal(again.proba(x), trees.proba(x))


def test_what_the_evaluator_cannot_take_is_refused(fitted):
    with pytest.raises(HepgenError, match="takes 4 inputs, found 3 column names"):
        trees_from_sklearn(fitted, COLUMNS[:3])
    x, y = labelled(600, seed=5)
    x[:, 3] = np.random.default_rng(0).integers(0, 3, 600)
    categorical = HistGradientBoostingClassifier(
        max_iter=5, categorical_features=[3], random_state=0
    ).fit(x, y)
    with pytest.raises(
        HepgenError, match="cannot store a HistGradientBoostingClassifier with categorical"
    ):
        trees_from_sklearn(categorical, COLUMNS)
    three = HistGradientBoostingClassifier(max_iter=3).fit(x, np.arange(600) % 3)
    with pytest.raises(HepgenError, match="binary classifier with labels"):
        trees_from_sklearn(three, COLUMNS)
    state = trees_from_sklearn(fitted, COLUMNS).to_state()
    broken = {**state, "nodes": {**state["nodes"], "left": state["nodes"]["left"] + 10**6}}
    with pytest.raises(HepgenError, match="tree nodes point outside"):
        Trees.from_state(broken)
    nodes = state["nodes"]
    back_to_the_root = np.where(nodes["leaf"], nodes["left"], 0)
    looped = Trees.from_state({**state, "nodes": {**nodes, "left": back_to_the_root}})
    with pytest.raises(HepgenError, match="the tree nodes form a cycle"):
        looped.raw(labelled(50, seed=6)[0])
    with pytest.raises(HepgenError, match=r"expected inputs of shape \(n, 4\)"):
        Trees.from_state(state).raw(x[:, :2])


def test_inputs_are_features_then_observables_with_absent_objects_missing():
    table = pd.DataFrame(
        {
            "mu1_pt": [40.0, 50.0],
            "mu1_eta": [0.1, -1.0],
            "mu1_phi": [0.5, 2.0],
            "mu1_e": [41.0, 80.0],
            "mu2_pt": [30.0, 0.0],
            "mu2_eta": [1.0, 0.0],
            "mu2_phi": [-2.0, 0.0],
            "mu2_e": [50.0, 0.0],
            "met": [10.0, 20.0],
        }
    )
    features = list(table.columns)
    x, names = classifier_inputs(table, features)
    assert names[: len(features)] == features and "m_mumu" in names
    assert x.shape == (2, len(names))
    assert np.isnan(x[1, features.index("mu2_eta")]) and not np.isnan(x[0, 5])
    assert np.isnan(x[1, names.index("m_mumu")]) and 0 < x[0, names.index("m_mumu")] < 200
    bad = table.assign(met=[np.inf, 1.0])
    with pytest.raises(
        HepgenError, match="generated events hold NaN or infinite values in columns 'met'"
    ):
        classifier_inputs(bad, features)
    with pytest.raises(HepgenError, match=r"lacks the feature columns \['ht'\]"):
        classifier_inputs(table, [*features, "ht"])


def test_a_reweighter_averages_the_folds_probabilities_and_clips(fitted):
    table = pd.DataFrame({"met": np.linspace(1.0, 100.0, 300), "met_phi": np.zeros(300)})
    rng = np.random.default_rng(6)
    folds = []
    for seed in (7, 8):
        x = table[["met"]].to_numpy()
        y = (x[:, 0] + rng.normal(scale=20.0, size=300) > 50).astype(float)
        model = HistGradientBoostingClassifier(max_iter=10, random_state=seed).fit(x, y)
        folds.append((model, trees_from_sklearn(model, ["met"])))
    reweighter = Reweighter(["met", "met_phi"], [t for _, t in folds], clip=3.0, norm=1.2)
    p = np.mean([m.predict_proba(table[["met"]].to_numpy())[:, 1] for m, _ in folds], axis=0)
    np.testing.assert_allclose(reweighter.probability(table), p, rtol=0, atol=1e-12)
    expected = np.minimum(p / (1 - p), 3.0)
    np.testing.assert_allclose(reweighter.ratio(table), expected, rtol=1e-12)
    assert reweighter.ratio(table).max() == 3.0  # the confident truth-like events are clipped
    weighted = table.assign(weight=2.0)  # events that carry a weight keep it as a factor
    np.testing.assert_allclose(reweighter.ratio(weighted), 2 * expected, rtol=1e-12)
    again = Reweighter.from_state(reweighter.to_state())
    np.testing.assert_array_equal(again.ratio(table), reweighter.ratio(table))
    with pytest.raises(HepgenError, match="clip > 1 and norm > 0"):
        Reweighter.from_state({**reweighter.to_state(), "norm": 0.0})
    with pytest.raises(HepgenError, match=r"lack the classifier inputs \['met'\]"):
        Reweighter(["met_phi"], reweighter.classifiers, 3.0, 1.0).ratio(table)
