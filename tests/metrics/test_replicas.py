"""The resample-as-draw-counts computations equal the metrics of the resampled events."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from hepgen.metrics.binned import chi2_ndf_1d, separation_power_1d
from hepgen.metrics.bootstrap import resamples
from hepgen.metrics.correlation import spearman_matrix, spearman_replicas
from hepgen.metrics.frechet import WeightedDraw
from hepgen.metrics.ks import ks_1d
from hepgen.metrics.marginals import MIN_DEFINED, Sample, compare_marginals, kernels
from hepgen.metrics.quantiles import quantile_mse_1d
from hepgen.metrics.replicas import Replicas, draw_counts
from hepgen.metrics.tails import tail_ratio_1d
from hepgen.metrics.wasserstein import w1_1d

BINS, QUANTILES = 20, 10
#: The 1D metrics one resample at a time, in the order of kernels().
REFERENCE = {
    "w1": w1_1d,
    "ks": ks_1d,
    "separation": functools.partial(separation_power_1d, bins=BINS),
    "chi2_ndf": functools.partial(chi2_ndf_1d, bins=BINS),
    "quantile_mse": functools.partial(quantile_mse_1d, quantiles=QUANTILES),
    "tail_99": functools.partial(tail_ratio_1d, level=0.99),
    "tail_999": functools.partial(tail_ratio_1d, level=0.999),
}


def _columns(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    """Continuous, multiplicity-like (few and many integers), constant and partly undefined."""
    x = np.column_stack(
        [
            rng.normal(shift, 1.0, n),
            rng.exponential(2.0, n),
            rng.integers(0, 6, n).astype(float),
            rng.poisson(30.0, n).astype(float),
            np.full(n, 3.0),
            rng.normal(size=n),
        ]
    )
    x[rng.uniform(size=n) < 0.3, 5] = np.nan
    return x


def _reference(a: Sample, b: Sample) -> np.ndarray:
    """(F, C) by the 1D metrics on the events themselves, as the evaluation did per resample."""
    out = np.full((len(REFERENCE), a.values.shape[1]), np.nan)
    for c in range(a.values.shape[1]):
        (x, wx), (y, wy) = a.column(c), b.column(c)
        if min(len(x), len(y)) >= MIN_DEFINED:
            out[:, c] = [kernel(x, y, wx, wy) for kernel in REFERENCE.values()]
    return out


def _weights(kind: str, rng: np.random.Generator, n: int) -> np.ndarray | None:
    return {"none": None, "unit": np.ones(n), "varied": rng.uniform(0.5, 1.5, n)}[kind]


@pytest.mark.parametrize("kind", ["none", "unit", "varied"])
def test_every_marginal_metric_equals_the_resampled_reference(kind: str) -> None:
    rng = np.random.default_rng(1)
    n, m = 1500, 1200
    a = Sample(_columns(rng, n, 0.0), _weights(kind, rng, n))
    b = Sample(_columns(rng, m, 0.1), _weights(kind, rng, m))
    indices = resamples(rng, n, m, 6)
    result = compare_marginals(
        a, {"value": b}, list("abcdef"), kernels(bins=BINS, quantiles=QUANTILES),
        indices={"value": indices},
    )  # fmt: skip
    assert list(kernels(bins=BINS, quantiles=QUANTILES)) == list(REFERENCE)
    expected = np.stack([_reference(a, b)] + [_reference(a.rows(i), b.rows(j)) for i, j in indices])
    found = np.concatenate([result.values["value"][None], result.replicates["value"]])
    np.testing.assert_array_equal(np.isnan(found), np.isnan(expected))
    np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-15)
    if kind != "varied":  # counts are exact: histograms, CDFs and quantiles agree to the bit
        for f in ("ks", "separation", "chi2_ndf", "tail_99", "tail_999"):
            k = list(REFERENCE).index(f)
            np.testing.assert_array_equal(found[:, k], expected[:, k])


@pytest.mark.parametrize("weighted", [False, True])
def test_quantiles_are_numpys_inverted_cdf_of_each_resample(weighted: bool) -> None:
    rng = np.random.default_rng(2)
    n = 997
    values = np.round(rng.normal(size=n), 2)  # with ties
    weights = rng.uniform(0.0, 2.0, n) if weighted else None
    indices = [rng.integers(0, n, n) for _ in range(5)] + [rng.integers(0, n, 40)]
    counts = draw_counts(n, indices)
    levels = np.array([0.005, 0.05, 0.25, 0.5, 0.75, 0.99, 0.999])
    found = Replicas.of_column(values, weights, counts).quantiles(levels)
    for row, index in enumerate([np.arange(n), *indices]):
        w = None if weights is None else weights[index]
        expected = np.quantile(values[index], levels, weights=w, method="inverted_cdf")
        np.testing.assert_array_equal(found[row], expected)


def test_undefined_values_and_counts_of_each_replica() -> None:
    values = np.array([3.0, np.nan, 1.0, 2.0, np.nan])
    counts = draw_counts(5, [np.array([0, 0, 1, 4, 3])])
    replicas = Replicas.of_column(values, None, counts)
    np.testing.assert_array_equal(replicas.values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(replicas.events, [3.0, 3.0])  # NaN draws drop out
    np.testing.assert_array_equal(replicas.cdf(np.array([2.5])), [[2 / 3], [1 / 3]])


def test_split_rows_replace_the_row_of_ones() -> None:
    counts = draw_counts(4, [np.array([3, 3, 0, 1])], points=[np.array([0, 2]), np.array([1, 3])])
    np.testing.assert_array_equal(counts, [[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 2]])
    np.testing.assert_array_equal(draw_counts(2, []), [[1, 1]])


@pytest.mark.parametrize("weighted", [False, True])
def test_spearman_of_each_resample(weighted: bool) -> None:
    rng = np.random.default_rng(3)
    n = 800
    x = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 4, n), np.ones(n), rng.exponential(size=n)]
    )
    x[:, 3] += 0.5 * x[:, 0]
    weights = rng.uniform(0.2, 2.0, n) if weighted else None
    indices = [rng.integers(0, n, n) for _ in range(4)]
    found = spearman_replicas(x, weights, draw_counts(n, indices))
    expected = [spearman_matrix(x, weights)] + [
        spearman_matrix(x[i], None if weights is None else weights[i]) for i in indices
    ]
    np.testing.assert_allclose(found, np.stack(expected), rtol=0, atol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_draws_are_those_of_rng_choice(weighted: bool) -> None:
    n = 5000
    weights = np.random.default_rng(4).uniform(0.0, 2.0, n) if weighted else None
    draw = WeightedDraw(weights, n)
    mine, numpy = np.random.default_rng(5), np.random.default_rng(5)
    p = None if weights is None else weights / weights.sum()
    for size in (1, 700, 5000):
        np.testing.assert_array_equal(
            draw(mine, size), numpy.choice(n, size=size, replace=True, p=p)
        )
    assert mine.random() == numpy.random()  # the streams stay in step
