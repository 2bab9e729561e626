"""Tail fidelity: generated/truth ratio of the event fractions beyond high truth quantiles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import Weights, column_pairs
from hepgen.metrics.replicas import ReplicaPair

__all__ = [
    "LEVELS",
    "MIN_EVENTS_TAILS",
    "has_tail",
    "tail_ratio_1d",
    "tail_ratio_replicas",
    "tail_ratios",
]

#: Truth quantile levels whose upper tails are compared.
LEVELS = (0.99, 0.999)
#: Events each sample needs.
MIN_EVENTS_TAILS = 10


def tail_ratio_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
    *,
    level: float = 0.99,
) -> float:
    """Fraction of generated events above the truth's ``level`` quantile over the expected one.

    The cut ``q`` is the (weighted) ``level`` quantile of the truth, an order statistic of
    it. The expected fraction of events beyond it is not the truth's own fraction above it
    but ``(W_above + w_mean) / (W + w_mean)`` (with unit weights ``(k + 1) / (n + 1)`` for
    ``k`` of ``n`` events above: the mean of the Beta distribution of ``1 - F(q)``), so an
    independent sample of the truth scores 1 on average, also far out in the tail.

    Arguments:
        truth: shape ``(n,)``.
        generated: shape ``(m,)``.
        w_truth: shape ``(n,)`` or ``None``.
        w_generated: shape ``(m,)`` or ``None``.
        level: the quantile level, e.g. 0.99.

    Returns:
        The ratio: 1 for a faithful tail, < 1 for an undershoot, > 1 for an overshoot.
    """
    w = np.ones(len(truth)) if w_truth is None else w_truth
    cut = np.quantile(truth, level, weights=w_truth, method="inverted_cdf")
    expected = (w[truth > cut].sum() + w.mean()) / (w.sum() + w.mean())
    return float(np.average(generated > cut, weights=w_generated) / expected)


def tail_ratio_replicas(pair: ReplicaPair, *, level: float = 0.99) -> np.ndarray:
    """:func:`tail_ratio_1d` of every pair of replicas (the samples and their resamples).

    Returns:
        Shape ``(R,)``.
    """
    truth, generated = pair.truth, pair.generated
    cut = pair.truth_quantiles([level])
    mean_weight = truth.total / truth.events
    above = truth.total - truth.below(cut, side="right")[:, 0]
    expected = (above + mean_weight) / (truth.total + mean_weight)
    found = (generated.total - generated.below(cut, side="right")[:, 0]) / generated.total
    return found / expected


def has_tail(truth: np.ndarray, w_truth: np.ndarray | None = None, *, level: float) -> bool:
    """Whether any truth event lies above the truth's ``level`` quantile (not so when the top
    values of a discrete feature are all equal, e.g. a multiplicity fixed by the selection, nor
    when the truth has no event with the column at all, e.g. an observable of a second lepton
    that only the generated events hold)."""
    if np.size(truth) == 0:
        return False
    cut = np.quantile(truth, level, weights=w_truth, method="inverted_cdf")
    return bool(np.any(truth > cut))


def tail_ratios(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    levels: Sequence[float] = LEVELS,
) -> dict[str, dict[float, float]]:
    """Generated/truth ratio of event fractions above the truth's high quantiles.

    Generators tend to undershoot the tails of steeply falling spectra (Butter et al.,
    arXiv:2008.06545); a ratio of 0.5 above the 99 % quantile means half the expected events.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.
        levels: quantile levels in (0, 1).

    Returns:
        ``{feature: {level: ratio}}`` for the features with truth events above the quantile
        (see :func:`has_tail`); the others are left out.
    """
    bad = [level for level in levels if not 0.0 < float(level) < 1.0]
    if bad:
        msg = f"tail ratio: quantile levels must lie in (0, 1), found {bad}"
        raise HepgenError(msg)
    columns, pairs = column_pairs(
        truth,
        generated,
        weights,
        features=features,
        metric="tail ratio",
        min_events=MIN_EVENTS_TAILS,
    )
    out: dict[str, dict[float, float]] = {}
    for name in columns:
        truth_values, _, w_truth, _ = pairs[name]
        ratios = {
            level: tail_ratio_1d(*pairs[name], level=level)
            for level in levels
            if has_tail(truth_values, w_truth, level=level)
        }
        if ratios:
            out[name] = ratios
    return out
