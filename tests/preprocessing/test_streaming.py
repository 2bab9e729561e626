"""Tests of the transform fitted in one streaming pass: exact when small, bounded error when not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.preprocessing import Transform
from hepgen.preprocessing.sampling import BottomK, dkw_bound
from hepgen.preprocessing.streaming import (
    StreamOptions,
    fit_streaming,
    sample_file,
    write_row_groups,
)

RULES = [
    {"match": "*_pt", "chain": ["log", "standard"]},
    {"match": "m", "chain": [{"quantile": {"quantiles": 200}}]},
    {"match": "n_jets", "chain": ["discrete", "standard"]},
    {"match": "x", "chain": [{"minmax": {"low": 0.01, "high": 0.99}}, "logit"]},
    {"match": "*", "chain": ["standard"]},
]


def events(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "mu1_pt": rng.lognormal(3.5, 0.5, n),
            "mu1_eta": rng.normal(0.0, 1.2, n),
            "m": np.where(rng.random(n) < 0.8, rng.normal(91.2, 2.5, n), rng.exponential(40.0, n)),
            "n_jets": rng.poisson(1.2, n).astype(np.int64),
            "x": rng.normal(0.0, 1.0, n),
        }
    )


def chains(transform: Transform) -> dict:
    return transform.to_dict()["chains"]


def test_a_file_within_the_reservoir_is_fitted_exactly(tmp_path) -> None:
    table = events(3000)
    write_row_groups(table, tmp_path / "train.parquet", 700)
    exact = Transform.from_rules(list(table.columns), RULES).fit(table)
    streamed = Transform.from_rules(list(table.columns), RULES)
    record = fit_streaming(streamed, tmp_path / "train.parquet", 5000, seed=1)
    assert record == {"events": 3000, "sample": 3000, "rank_error_bound": 0.0}
    got, want = chains(streamed), chains(exact)
    assert got.keys() == want.keys()
    for feature in want:
        for a, b in zip(got[feature], want[feature], strict=True):
            assert a.keys() == b.keys() and a.pop("name") == b.pop("name"), feature
            for key, value in b.items():  # equal up to the summation order of the means
                np.testing.assert_allclose(a[key], value, rtol=1e-12, atol=1e-12)


def test_a_sampled_fit_stays_within_its_error_bound(tmp_path) -> None:
    n, reservoir = 200_000, 10_000
    table = events(n, seed=3)
    write_row_groups(table, tmp_path / "train.parquet", 30_000)
    streamed = Transform.from_rules(list(table.columns), RULES)
    record = fit_streaming(streamed, tmp_path / "train.parquet", reservoir, seed=2)
    bound = dkw_bound(reservoir)
    assert record["rank_error_bound"] == pytest.approx(bound) and bound == pytest.approx(
        0.0195, 0.01
    )
    quantile = streamed.chains["m"][0]
    ranks = np.searchsorted(np.sort(table["m"].to_numpy()), quantile.values) / n
    rank_error = np.abs(ranks - np.asarray(quantile.references)).max()
    assert rank_error < bound  # measured 0.006 to 0.015 over seeds 0 to 4
    standard = streamed.chains["mu1_eta"][0]
    assert abs(standard.mean - table["mu1_eta"].mean()) < 4 * 1.2 / np.sqrt(reservoir)
    assert standard.std == pytest.approx(table["mu1_eta"].std(), rel=0.03)
    minmax = streamed.chains["x"][0]  # the extreme events are in the sample: the range is exact
    assert (minmax.min, minmax.max) == (table["x"].min(), table["x"].max())
    inputs = streamed.forward(table)
    assert np.isfinite(inputs).all()  # no training event falls outside (0, 1) before the logit
    assert streamed.chains["n_jets"][0].values == sorted(table["n_jets"].unique().tolist())


def test_the_sample_holds_each_event_once_and_is_seeded(tmp_path) -> None:
    table = events(5000, seed=4)
    table["row"] = np.arange(5000)
    write_row_groups(table, tmp_path / "train.parquet", 333)
    first, n = sample_file(tmp_path / "train.parquet", 1000, seed=7)
    again, _ = sample_file(tmp_path / "train.parquet", 1000, seed=7)
    other, _ = sample_file(tmp_path / "train.parquet", 1000, seed=8)
    assert n == 5000 and first["row"].is_unique and 1000 <= len(first) <= 1000 + 2 * 6 + 20
    assert first.dtypes.equals(table.dtypes)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["row"]) != set(other["row"])
    for column in ("mu1_pt", "x"):
        assert table[column].idxmin() in set(first["row"])
        assert table[column].idxmax() in set(first["row"])


def test_bottom_k_does_not_depend_on_how_the_pass_is_cut() -> None:
    """The sample is uniform: each event's inclusion frequency is size / n."""
    hits = np.zeros(400)
    for seed in range(300):
        sample = BottomK(40, seed)
        for chunk, lo in enumerate(range(0, 400, 70)):
            sample.offer(chunk, np.arange(lo, min(lo + 70, 400)))
        (rows,) = sample.result()
        assert len(np.unique(rows)) == 40
        hits[rows] += 1
    assert hits.mean() == pytest.approx(30.0)
    first, last = hits[:200].sum(), hits[200:].sum()  # early and late events alike
    assert abs(first - last) < 4 * np.sqrt(6000)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"reservoir": 10}, "key 'reservoir' must be an integer >= 1000, found 10"),
        ({"row_group": 0}, "key 'row_group' must be an integer >= 1, found 0"),
        ({"buffer": 5}, r"unknown key\(s\) \['buffer'\]"),
    ],
)
def test_bad_options_name_the_key(values, match) -> None:
    with pytest.raises(HepgenError, match=match):
        StreamOptions.from_dict(values)
