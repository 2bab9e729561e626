"""Statistics shared by training and evaluation: one implementation of each distance.

Epoch selection (:mod:`hepgen.training.selection`) and the reported metrics
(:mod:`hepgen.metrics`) compute the 1-Wasserstein distance ``W1 = integral |F_a(x) - F_b(x)| dx``
(Kansal et al., arXiv:2211.10295, for its use in particle physics), the Kolmogorov-Smirnov
distance, the histogram chi2/ndf and the Spearman rank correlations with the functions here,
so the number that picks the best epoch and the number that is reported cannot drift apart.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EDGE_LEVELS",
    "area_between_cdfs",
    "chi2_ndf_1d",
    "edge_range",
    "histogram_edges",
    "histogram_fractions",
    "ks_1d",
    "spearman_matrix",
    "wasserstein_1",
    "weighted_cdf",
    "weighted_correlation",
    "weighted_ranks",
]


def area_between_cdfs(grid: np.ndarray, cdf_gap: np.ndarray, axis: int = 0) -> np.ndarray:
    """``sum |F_a - F_b| * dx`` over a sorted grid: the exact W1 of two step-function CDFs.

    Arguments:
        grid: the merged, sorted values of both samples along ``axis``, ``k`` of them.
        cdf_gap: ``F_a - F_b`` (or its absolute value) at ``grid[:-1]`` along ``axis``
            (``k - 1`` entries; at ``grid[-1]`` both CDFs are 1); broadcasts against
            ``diff(grid)``, e.g. ``(R, k - 1)`` replicas against a grid of shape ``(k,)``.
        axis: the axis of the grid and of the gap.

    Returns:
        The area, in the units of ``grid``, with ``axis`` summed out.
    """
    return np.sum(np.abs(cdf_gap) * np.diff(grid, axis=axis), axis=axis)


def wasserstein_1(
    a: np.ndarray,
    b: np.ndarray,
    a_weights: np.ndarray | None = None,
    b_weights: np.ndarray | None = None,
) -> np.ndarray:
    """The 1-Wasserstein distance between the marginals of ``a`` and ``b``, column by column.

    Evaluated exactly from the merged, stably sorted samples. Weights may be negative as long
    as each sample's total is positive (the CDFs are then signed sums).

    Arguments:
        a: shape ``(n,)`` or ``(n, d)``.
        b: shape ``(m,)`` or ``(m, d)``.
        a_weights: shape ``(n,)``, or ``None`` for unit weights.
        b_weights: shape ``(m,)``, or ``None``.

    Returns:
        Shape ``()`` for 1D input, else ``(d,)``, in the units of the values.
    """
    n, m = len(a), len(b)
    wa = np.ones(n) if a_weights is None else np.asarray(a_weights, dtype=np.float64)
    wb = np.ones(m) if b_weights is None else np.asarray(b_weights, dtype=np.float64)
    values = np.concatenate([a, b]).astype(np.float64)
    signed = np.concatenate([wa / wa.sum(), -wb / wb.sum()])
    if values.ndim == 1:
        order = np.argsort(values, kind="stable")
        return area_between_cdfs(values[order], np.cumsum(signed[order])[:-1])
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    return area_between_cdfs(ordered, np.cumsum(signed[order], axis=0)[:-1])


def weighted_cdf(values: np.ndarray, weights: np.ndarray | None, at: np.ndarray) -> np.ndarray:
    """Empirical (weighted) CDF of ``values`` evaluated at ``at``: ``P(X <= at)``.

    Arguments:
        values: shape ``(n,)``.
        weights: shape ``(n,)`` or ``None``; negative ones give a signed CDF (total > 0).
        at: where to evaluate, shape ``(k,)``.

    Returns:
        Shape ``(k,)``, in ``[0, 1]`` for non-negative weights.
    """
    order = np.argsort(values, kind="stable")
    w = np.ones(len(values)) if weights is None else np.asarray(weights, np.float64)[order]
    cumulative = np.concatenate([[0.0], np.cumsum(w)])
    cumulative /= cumulative[-1]
    return cumulative[np.searchsorted(values[order], at, side="right")]


def ks_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
) -> float:
    """``sup_x |F_truth(x) - F_generated(x)|`` of two 1D samples (no input checks)."""
    grid = np.concatenate([truth, generated])
    difference = weighted_cdf(truth, w_truth, grid) - weighted_cdf(generated, w_generated, grid)
    return float(np.max(np.abs(difference)))


#: Quantile levels behind :func:`edge_range`: the 0.5 % and 99.5 % range, and the quartiles.
EDGE_LEVELS = (0.005, 0.25, 0.75, 0.995)


def edge_range(low, q1, q3, high) -> tuple[np.ndarray, np.ndarray]:
    """The binned range from the quantiles at :data:`EDGE_LEVELS` (scalars or arrays).

    The 0.5-99.5 % range is cut to at most 5 interquartile ranges beyond the quartiles, and
    widened by 0.5 on each side where it is empty.
    """
    low = np.maximum(low, q1 - 5.0 * (q3 - q1))
    high = np.minimum(high, q3 + 5.0 * (q3 - q1))
    narrow = ~(high > low)
    return np.where(narrow, low - 0.5, low), np.where(narrow, high + 0.5, high)


def histogram_edges(
    values: np.ndarray, weights: np.ndarray | None = None, *, bins: int = 40
) -> np.ndarray:
    """Bin edges over the 0.5-99.5 % (weighted) quantile range of ``values``, narrowed for peaks.

    The range is cut to at most 5 interquartile ranges beyond the quartiles, so a narrow
    resonance on a long tail (m_ll at the Z pole) is resolved instead of filling one bin.
    Integer-valued features with few distinct values (multiplicities) get one bin per integer.
    Quantiles are weighted unless a weight is negative.

    Arguments:
        values: the truth values, shape ``(n,)``.
        weights: their weights, shape ``(n,)``, or ``None``.
        bins: number of bins for continuous features.

    Returns:
        Increasing edges, shape ``(k + 1,)``.
    """
    distinct = np.unique(values)
    if np.all(distinct == np.round(distinct)) and len(distinct) <= bins:
        return np.arange(distinct[0] - 0.5, distinct[-1] + 1.0)
    if weights is not None and np.any(np.asarray(weights) < 0):
        weights = None
    quartiles = np.quantile(values, EDGE_LEVELS, weights=weights, method="inverted_cdf")
    return np.linspace(*edge_range(*quartiles), bins + 1)


def histogram_fractions(
    values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of the (weighted) events per bin (k,) and its uncertainty sqrt(sum w^2) / sum w (k,).

    Values below (above) the range are counted in the first (last) bin, so the fractions sum
    to one.
    """
    k = len(edges) - 1
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, k - 1)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, np.float64)
    total = w.sum()
    summed = np.bincount(index, weights=w, minlength=k)
    squared = np.bincount(index, weights=w * w, minlength=k)
    return summed / total, np.sqrt(squared) / total


def chi2_ndf_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
    *,
    bins: int = 40,
) -> float:
    """chi2/ndf of two normalised 1D histograms on the truth's :func:`histogram_edges`.

    ``sum_i (p_i - q_i)^2 / (var p_i + var q_i) / (k - 1)`` over the k bins of nonzero
    variance: about 1 for two samples of one distribution. NaN when fewer than two bins are
    filled (no input checks).
    """
    edges = histogram_edges(truth, w_truth, bins=bins)
    p, p_err = histogram_fractions(truth, edges, w_truth)
    q, q_err = histogram_fractions(generated, edges, w_generated)
    variance = p_err**2 + q_err**2
    used = variance > 0
    ndf = int(used.sum()) - 1
    if ndf < 1:
        return float("nan")
    return float(np.sum((p[used] - q[used]) ** 2 / variance[used]) / ndf)


def weighted_ranks(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Mid-ranks in units of weight: the weight below a value plus half the weight at it.

    With unit weights these are the usual average ranks minus 1/2 (a shift that leaves
    correlations unchanged); tied values share one rank.

    Arguments:
        values: shape ``(n,)``.
        weights: shape ``(n,)`` or ``None``.

    Returns:
        Shape ``(n,)``.
    """
    distinct, inverse = np.unique(values, return_inverse=True)
    at_value = np.bincount(inverse, weights=weights, minlength=len(distinct))
    return (np.cumsum(at_value) - 0.5 * at_value)[inverse]


def weighted_correlation(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation (d, d) of the columns of ``x`` (n, d), weights ``w`` (n,).

    A constant column correlates 0 with every other column (and 1 with itself).
    """
    centred = x - np.average(x, axis=0, weights=w)
    covariance = (centred * w[:, None]).T @ centred / w.sum()
    scale = np.sqrt(np.diag(covariance))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance / np.outer(scale, scale)
    correlation[~np.isfinite(correlation)] = 0.0
    np.fill_diagonal(correlation, 1.0)
    return np.clip(correlation, -1.0, 1.0)


def spearman_matrix(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) Spearman correlation matrix of the columns of ``x``.

    The weighted Pearson correlation of the weighted mid-ranks (:func:`weighted_ranks`).

    Arguments:
        x: events, shape ``(n, d)``.
        weights: shape ``(n,)`` or ``None``.

    Returns:
        Symmetric matrix of shape ``(d, d)`` with unit diagonal.
    """
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    ranks = np.column_stack([weighted_ranks(column, weights) for column in x.T])
    return weighted_correlation(ranks, w)
