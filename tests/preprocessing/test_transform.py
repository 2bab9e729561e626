"""Round trips and fitting rules of the preprocessing transforms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hepgen.errors import HepgenError
from hepgen.preprocessing import ELEMENTARY, Transform, make, split_table

RULES = [
    {"match": "*_pt", "chain": [{"log": {"offset": 1.0}}, "standard"]},
    {"match": "*_eta", "chain": [{"minmax": {"low": 0.01, "high": 0.99}}, "logit"]},
    {"match": "*", "chain": ["standard"]},
]


def _table(rng, n=500):
    pt = rng.exponential(40.0, n) + 20.0
    pt[rng.random(n) < 0.2] = 0.0  # zero-padded absent objects
    return pd.DataFrame(
        {
            "j1_pt": pt,
            "j1_eta": rng.uniform(-2.5, 2.5, n),
            "met": rng.exponential(30.0, n),
            "weight": rng.uniform(0.5, 1.5, n),
        }
    )


positive = arrays(np.float64, st.integers(2, 60), elements=st.floats(1e-3, 1e5))
finite = arrays(np.float64, st.integers(2, 60), elements=st.floats(-1e6, 1e6))


@settings(max_examples=60, deadline=None)
@given(x=positive)
def test_log_standard_round_trip(x):
    if np.ptp(x) < 1e-9 * np.max(np.abs(x)):
        return
    chain = [make("log"), make("standard")]
    y = x
    for step in chain:
        y = step.fit(y, "f").forward(y)
    for step in reversed(chain):
        y = step.inverse(y)
    np.testing.assert_allclose(y, x, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(x=finite, low=st.floats(-1.0, 0.0), width=st.floats(0.5, 2.0))
def test_minmax_round_trip_and_range(x, low, width):
    if np.ptp(x) <= 1e-6 * max(1.0, np.max(np.abs(x))):
        return
    step = make({"minmax": {"low": low, "high": low + width}}).fit(x, "f")
    y = step.forward(x)
    assert y.min() == pytest.approx(low, abs=1e-9) and y.max() == pytest.approx(
        low + width, abs=1e-9
    )
    np.testing.assert_allclose(step.inverse(y), x, rtol=1e-9, atol=1e-9 * np.max(np.abs(x)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 300))
def test_whole_chain_round_trip_float32(seed, n):
    table = _table(np.random.default_rng(seed), n)
    if table["j1_pt"].nunique() < 2:
        return
    transform = Transform.from_rules(list(table.columns), RULES).fit(table)
    x = transform.forward(table)
    assert x.dtype == np.float32 and x.shape == (n, 3)
    back = transform.inverse(x)
    assert list(back.columns) == transform.features == ["j1_pt", "j1_eta", "met"]
    for col in transform.features:
        np.testing.assert_allclose(back[col], table[col], rtol=2e-6, atol=2e-5)
    assert (back["j1_pt"][table["j1_pt"] == 0].abs() < 1e-4).all(), "padding must come back as ~0"


def test_json_round_trip_is_exact(tmp_path, rng):
    table = _table(rng)
    transform = Transform.from_rules(list(table.columns), RULES).fit(table)
    transform.save(tmp_path / "t.json", note="x")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["metadata"] == {"note": "x"}
    loaded = Transform.load(tmp_path / "t.json")
    np.testing.assert_array_equal(loaded.forward(table), transform.forward(table))


def test_fit_sees_only_the_training_split(rng):
    table = _table(rng, 1000)
    parts = split_table(table, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)
    with_test = Transform.from_rules(list(table.columns), RULES).fit(parts["train"])
    altered = table.copy()
    altered.loc[:, "met"] *= 1.0 + np.arange(len(table)) % 2  # change events outside train
    parts_b = split_table(altered, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)
    parts_b["train"] = parts["train"]
    without = Transform.from_rules(list(table.columns), RULES).fit(parts_b["train"])
    assert with_test.to_dict() == without.to_dict()


def test_split_is_deterministic_disjoint_and_complete(rng):
    table = _table(rng, 1001).reset_index(names="event")
    a = split_table(table, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=11)
    b = split_table(table, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=11)
    c = split_table(table, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=12)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["test"].equals(c["test"])
    ids = np.concatenate([p["event"].to_numpy() for p in a.values()])
    assert sorted(ids) == list(range(1001))
    assert len(a["train"]) == 601


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ([{"match": "*", "chain": ["sqrt"]}], "unknown transform 'sqrt'"),
        (
            [{"match": "j1_*", "chain": ["log"]}, {"match": "*", "chain": ["standard"]}],
            "'j1_pt': 'log' needs.*found minimum 0",
        ),
        (
            [{"match": "j1_eta", "chain": ["logit"]}, {"match": "*", "chain": ["standard"]}],
            "'j1_eta': 'logit'",
        ),
        ([{"match": "j1_pt", "chain": ["standard"]}], "'j1_eta' matches no rule"),
    ],
)
def test_bad_transform_config_names_feature(rng, rules, match):
    table = _table(rng)
    with pytest.raises(HepgenError, match=match):
        Transform.from_rules(list(table.columns), rules).fit(table)


def test_a_constant_feature_is_kept_not_learned_and_bad_fractions(rng):
    table = _table(rng).assign(met=5.0)
    rules = [{"match": "*", "chain": ["standard"]}]
    transform = Transform.from_rules(list(table.columns), rules).fit(table)
    assert transform.constants == {"met": 5.0}
    assert "met" not in transform.features
    x = transform.forward(table)
    assert x.shape[1] == len(table.columns) - 2  # neither weight nor met
    assert (transform.inverse(x)["met"] == 5.0).all()
    with pytest.raises(HepgenError, match="sum to 1"):
        split_table(table, {"train": 0.5, "val": 0.2, "test": 0.2}, seed=0)


def test_every_elementary_is_registered():
    assert set(ELEMENTARY) == {"log", "standard", "minmax", "logit", "quantile", "discrete"}
