"""Statistics shared by training and evaluation: the one 1-Wasserstein distance.

Epoch selection (:mod:`hepgen.training.selection`) and the reported metrics
(:mod:`hepgen.metrics.wasserstein`) both compute ``W1 = integral |F_a(x) - F_b(x)| dx``
(Kansal et al., arXiv:2211.10295, for its use in particle physics) with the functions here,
so the number that picks the best epoch and the number that is reported cannot drift apart.
"""

from __future__ import annotations

import numpy as np

__all__ = ["area_between_cdfs", "wasserstein_1"]


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
