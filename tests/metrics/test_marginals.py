"""Tests of the one-pass comparison of every 1D metric over every column."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.metrics.bootstrap import resamples
from hepgen.metrics.ks import ks_1d
from hepgen.metrics.marginals import Sample, compare_marginals, kernels
from hepgen.metrics.wasserstein import w1_1d


def test_entries_values_means_and_undefined_columns() -> None:
    rng = np.random.default_rng(0)
    n = 600
    truth = np.column_stack([rng.normal(size=n), np.full(n, 2.0), rng.normal(size=n)])
    other = np.column_stack([rng.normal(0.5, 1, n), np.full(n, 2.0), rng.normal(size=n)])
    other[::3, 2] = np.nan  # an observable undefined for a third of the events
    indices = {key: resamples(rng, n, n, 10) for key in ("value", "floor")}
    result = compare_marginals(
        Sample(truth),
        {"value": Sample(other), "floor": Sample(truth[::-1].copy())},
        ["a", "b", "c"],
        kernels(bins=20, quantiles=10),
        indices=indices,
        applies={"ks": ["a", "c"]},
    )
    w1 = result.family("w1", {"features": ["a", "b"], "observables": ["c"]})
    assert w1["features"]["a"]["value"] == pytest.approx(w1_1d(truth[:, 0], other[:, 0]))
    assert w1["features"]["a"]["value"] == pytest.approx(0.5, abs=0.12)
    assert w1["features"]["b"]["value"] == 0.0  # equal constants agree exactly
    defined = other[:, 2][~np.isnan(other[:, 2])]
    assert w1["observables"]["c"]["value"] == pytest.approx(w1_1d(truth[:, 2], defined))
    columns = [w1["features"]["a"], w1["features"]["b"], w1["observables"]["c"]]
    assert w1["mean"]["value"] == pytest.approx(np.mean([e["value"] for e in columns]))
    assert w1["features"]["a"]["err"] > 0
    ks = result.family("ks", {"features": ["a", "b", "c"]})
    assert ks["skipped"] == ["b"]  # not applied to b
    assert ks["features"]["c"]["value"] == pytest.approx(ks_1d(truth[:, 2], defined))


def test_splits_average_each_splits_metric() -> None:
    """With splits, the value is the mean of the metric over the listed subsamples."""
    rng = np.random.default_rng(3)
    n = 400
    truth = rng.normal(size=(n, 1))
    generated = rng.normal(0.3, 1.0, size=(2 * n, 1))
    halves = [rng.permutation(n) for _ in range(4)]
    splits = {
        "value": [(order[: n // 2], rng.permutation(2 * n)[: n // 2]) for order in halves],
        "floor": [(order[: n // 2], order[n // 2 :]) for order in halves],
    }
    indices = {key: resamples(rng, n // 2, n // 2, 5) for key in splits}
    others = {"value": Sample(generated), "floor": Sample(truth)}
    result = compare_marginals(
        Sample(truth), others, ["x"], kernels(bins=20, quantiles=10), indices=indices, splits=splits
    )
    w1 = result.family("w1", {"features": ["x"]})["features"]["x"]
    for key, sample in others.items():
        expected = np.mean([w1_1d(truth[a, 0], sample.values[b, 0]) for a, b in splits[key]])
        assert w1[key] == pytest.approx(expected)
    assert w1["err"] > 0 and w1["floor_err"] > 0  # the resamples still give the uncertainties
