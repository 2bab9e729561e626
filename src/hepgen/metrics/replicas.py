"""One column of a sample and all its bootstrap resamples at once, as draw counts per event.

A resample with replacement of ``n`` events is the original sample with each event counted as
often as it was drawn. Every one-dimensional metric here is a function of the (weighted)
empirical distribution, so it can be computed on the sorted original values with the counts
(times the event weights) as weights: the values are sorted once and each resample costs a
cumulative sum instead of a sort. The result equals the metric of the resampled events up to
floating-point rounding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ReplicaPair", "Replicas", "draw_counts"]


def draw_counts(
    n_events: int, indices: list[np.ndarray], points: list[np.ndarray] | None = None
) -> np.ndarray:
    """Draw counts of each event: the point-estimate rows, then one row per resample.

    Arguments:
        n_events: events of the sample.
        indices: the row indices of each resample, each of shape ``(k,)`` in ``[0, n_events)``.
        points: the row indices of each subsample whose metrics are averaged into the point
            estimate (e.g. random splits of the sample); ``None``: a single row of ones, the
            sample itself.

    Returns:
        Shape ``(P + len(indices), n_events)``, float64, with ``P = 1`` without ``points``,
        else ``len(points)``.
    """
    rows = [None] if points is None else list(points)
    counts = np.ones((len(rows) + len(indices), n_events))
    for r, index in enumerate([*rows, *indices]):
        if index is not None:
            counts[r] = np.bincount(index, minlength=n_events)
    return counts


@dataclass(frozen=True, eq=False)
class Replicas:
    """The defined values of one column under ``R`` weightings (replicas) of its events.

    Attributes:
        values: defined values in ascending order, shape ``(n,)``.
        counts: times each event enters each replica, shape ``(R, n)``.
        event_weights: per-event weights in the order of ``values``, shape ``(n,)``, or
            ``None`` for unit weights.
        weights: ``counts * event_weights``, shape ``(R, n)``.
        cumulative: cumulative ``weights`` with a leading 0, shape ``(R, n + 1)``.
    """

    values: np.ndarray
    counts: np.ndarray
    event_weights: np.ndarray | None
    weights: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def of_column(
        cls, column: np.ndarray, weights: np.ndarray | None, counts: np.ndarray
    ) -> Replicas:
        """Sort the defined (non-NaN) values of a column once for all replicas.

        Arguments:
            column: values of every event, NaN where undefined, shape ``(N,)``.
            weights: per-event weights, shape ``(N,)``, or ``None``.
            counts: draw counts from :func:`draw_counts`, shape ``(R, N)``.
        """
        defined = np.flatnonzero(~np.isnan(column))
        index = defined[np.argsort(column[defined], kind="stable")]
        values, drawn = column[index], np.take(counts, index, axis=1)
        w = None if weights is None else weights[index]
        return cls._build(values, drawn, w)

    @classmethod
    def _build(cls, values: np.ndarray, counts: np.ndarray, w: np.ndarray | None) -> Replicas:
        unit = w is None or bool(np.all(w == 1.0))  # weights of 1 multiply nothing
        weighted = counts if unit else counts * w
        cumulative = np.zeros((len(counts), len(values) + 1))
        np.cumsum(weighted, axis=1, out=cumulative[:, 1:])
        return cls(values, counts, w, weighted, cumulative)

    def rows(self, index: np.ndarray) -> Replicas:
        """The replicas at ``index`` (shape ``(k,)``) only."""
        return Replicas._build(self.values, self.counts[index], self.event_weights)

    @property
    def total(self) -> np.ndarray:
        """Total weight of each replica, shape ``(R,)``."""
        return self.cumulative[:, -1]

    @functools.cached_property
    def events(self) -> np.ndarray:
        """Events in each replica, shape ``(R,)``."""
        return self.counts.sum(axis=1)

    @functools.cached_property
    def cumulative_squares(self) -> np.ndarray:
        """Cumulative ``counts * event_weights**2`` with a leading 0, shape ``(R, n + 1)``."""
        if self.weights is self.counts:  # unit weights: squares are the weights
            return self.cumulative
        out = np.zeros_like(self.cumulative)
        np.cumsum(self.counts * self.event_weights**2, axis=1, out=out[:, 1:])
        return out

    def below(self, at: np.ndarray, *, side: str, squares: bool = False) -> np.ndarray:
        """Weight of the values ``< at`` (``side="left"``) or ``<= at`` (``"right"``).

        Arguments:
            at: shape ``(k,)`` (the same points for every replica) or ``(R, k)``.
            side: ``"left"`` or ``"right"``.
            squares: sum squared event weights instead (histogram uncertainties).

        Returns:
            Shape ``(R, k)``.
        """
        cumulative = self.cumulative_squares if squares else self.cumulative
        at = np.asarray(at)
        position = np.searchsorted(self.values, at.ravel(), side=side)
        if at.ndim == 1:
            return np.take(cumulative, position, axis=1)
        return np.take_along_axis(cumulative, position.reshape(at.shape), axis=1)

    def between(self, edges: np.ndarray, *, side: str, squares: bool = False) -> np.ndarray:
        """Weight in the cells cut by ``edges``: below the first, between neighbours, above the last.

        Arguments:
            edges: increasing, shape ``(k,)`` or ``(R, k)``.
            side: ``"left"``: each edge belongs to the cell above it; ``"right"``: below it.
            squares: sum squared event weights instead (histogram uncertainties).

        Returns:
            Shape ``(R, k + 1)``.
        """
        cumulative = self.cumulative_squares if squares else self.cumulative
        inner = self.below(edges, side=side, squares=squares)
        return np.diff(inner, axis=1, prepend=0.0, append=cumulative[:, -1:])

    def cdf(self, at: np.ndarray) -> np.ndarray:
        """Empirical CDF ``P(X <= at)`` of each replica at the points ``at`` (k,); shape ``(R, k)``."""
        return self.below(at, side="right") / self.total[:, None]

    def quantiles(self, levels: np.ndarray) -> np.ndarray:
        """``np.quantile(..., method="inverted_cdf")`` of each replica's events.

        Unit weights give numpy's unweighted order statistic exactly; event weights its
        weighted rule (the smallest value whose CDF reaches the level).

        Arguments:
            levels: quantile levels in (0, 1), shape ``(L,)``.

        Returns:
            Shape ``(R, L)``.
        """
        levels = np.asarray(levels, dtype=np.float64)
        out = np.empty((len(self.counts), len(levels)))
        if self.event_weights is None:  # the cumulative weights count the drawn events
            for r, n in enumerate(self.events):
                rank = np.quantile(np.arange(int(n)), levels, method="inverted_cdf")
                position = np.searchsorted(self.cumulative[r, 1:], rank, side="right")
                out[r] = self.values[position]
            return out
        last = len(self.values) - 1
        for r in range(len(out)):
            cdf = self.cumulative[r, 1:] / self.cumulative[r, -1]
            out[r] = self.values[np.minimum(np.searchsorted(cdf, levels, side="left"), last)]
        return out

    def std(self) -> np.ndarray:
        """Weighted standard deviation (population form) of each replica, shape ``(R,)``."""
        mean = self.weights @ self.values / self.total
        square = np.einsum("rn,rn->r", self.weights, (self.values - mean[:, None]) ** 2)
        return np.sqrt(square / self.total)

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per replica: whether every drawn value is an integer, and the number, smallest
        and largest of the distinct drawn values (the last three meaningful where integer).

        Returns:
            ``(integer (R,) bool, count (R,), first (R,), last (R,))``.
        """
        fractional = self.values != np.round(self.values)
        integer = self.counts[:, fractional].sum(axis=1) == 0
        count = np.zeros(len(self.counts), dtype=np.int64)
        first, last = np.full(len(count), np.nan), np.full(len(count), np.nan)
        for r in np.flatnonzero(integer):
            drawn = self.values[self.counts[r] > 0]  # ascending
            count[r] = 1 + np.count_nonzero(np.diff(drawn))
            first[r], last[r] = drawn[0], drawn[-1]
        return integer, count, first, last


class ReplicaPair:
    """Truth and generated replicas of one column, and the intermediate results that several
    metrics share (each computed once, on first use).

    Arguments:
        truth: ``R`` replicas of the truth column.
        generated: ``R`` replicas of the generated column (row ``r`` pairs with truth row ``r``).
    """

    def __init__(self, truth: Replicas, generated: Replicas) -> None:
        self.truth, self.generated = truth, generated
        self._memo: dict[Hashable, Any] = {}

    def rows(self, index: np.ndarray) -> ReplicaPair:
        """The pairs of replicas at ``index`` only."""
        return ReplicaPair(self.truth.rows(index), self.generated.rows(index))

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, called once per ``key`` for this pair."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def truth_quantiles(self, levels: Sequence[float]) -> np.ndarray:
        """:meth:`Replicas.quantiles` of the truth, shape ``(R, len(levels))``."""
        levels = tuple(float(level) for level in levels)
        return self.memo(("quantiles", levels), lambda: self.truth.quantiles(np.array(levels)))

    @functools.cached_property
    def cdf_distance(self) -> tuple[np.ndarray, np.ndarray]:
        """The merged sorted values of both samples, ``grid`` of shape ``(k,)``, and
        ``|F_truth - F_generated|`` of each replica at ``grid[:-1]``, shape ``(R, k - 1)``
        (at ``grid[-1]`` both CDFs are 1)."""
        grid = np.sort(np.concatenate([self.truth.values, self.generated.values]))
        at = grid[:-1]
        difference = self.truth.cdf(at)
        difference -= self.generated.cdf(at)
        return grid, np.abs(difference, out=difference)
