"""Binned comparisons of one feature: separation power and chi2/ndf on normalised histograms."""

from __future__ import annotations

from collections.abc import Sequence

import hist
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.metrics.inputs import Weights, column_pairs
from hepgen.metrics.replicas import ReplicaPair, Replicas
from hepgen.stats import EDGE_LEVELS, chi2_ndf_1d, edge_range, histogram_edges

__all__ = [
    "MIN_EVENTS_BINNED",
    "binned",
    "chi2_ndf",
    "chi2_ndf_1d",
    "chi2_ndf_replicas",
    "histogram_edges",
    "separation_power",
    "separation_of_histograms",
    "separation_power_1d",
    "separation_power_replicas",
]

#: Events each sample needs for a histogram comparison to mean something.
MIN_EVENTS_BINNED = 10


def binned(
    values: np.ndarray,
    edges: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    flow: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of the (weighted) events per bin and its statistical uncertainty.

    With ``flow`` values below (above) the range are counted in the first (last) bin, so the
    fractions sum to one; without, they are left out (fractions still of all events).
    Filled with a ``hist`` histogram of weighted storage.

    Arguments:
        values: shape ``(n,)``.
        edges: increasing, shape ``(k + 1,)``.
        weights: shape ``(n,)`` or ``None``.
        flow: fold under- and overflow into the edge bins.

    Returns:
        ``(fraction, error)``, each of shape ``(k,)``; ``error = sqrt(sum w^2) / sum w``.
    """
    w = np.ones_like(values, dtype=np.float64) if weights is None else weights
    # The upper edge belongs to the overflow in `hist`: clip just inside it.
    if flow:
        values = np.clip(values, edges[0], np.nextafter(edges[-1], -np.inf))
    histogram = hist.Hist(hist.axis.Variable(edges, flow=False), storage=hist.storage.Weight())
    histogram.fill(values, weight=w)
    total = w.sum()
    return histogram.values() / total, np.sqrt(histogram.variances()) / total


def separation_power_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
    *,
    bins: int = 40,
) -> float:
    """Separation power of two 1D samples binned on the truth's edges (no input checks)."""
    edges = histogram_edges(truth, w_truth, bins=bins)
    p, _ = binned(truth, edges, w_truth)
    q, _ = binned(generated, edges, w_generated)
    return separation_of_histograms(p, q)


def separation_of_histograms(p: np.ndarray, q: np.ndarray) -> float:
    """``S = 1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` of two histograms, each normalised to one.

    Arguments:
        p: bin contents, shape ``(k,)``.
        q: bin contents on the same bins, shape ``(k,)``.

    Returns:
        S in ``[0, 1]``: 0 for identical, 1 for disjoint histograms.
    """
    p, q = p / p.sum(), q / q.sum()
    total = p + q
    used = total > 0
    return float(0.5 * np.sum((p[used] - q[used]) ** 2 / total[used]))


def separation_power_replicas(pair: ReplicaPair, *, bins: int = 40) -> np.ndarray:
    """:func:`separation_power_1d` of every pair of replicas (samples and resamples), ``(R,)``."""
    out = np.full(len(pair.truth.counts), np.nan)
    for rows, p, _, q, _ in _replica_histograms(pair, bins):
        p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
        total = p + q
        used = total > 0
        terms = np.where(used, (p - q) ** 2 / np.where(used, total, 1.0), 0.0)
        out[rows] = 0.5 * terms.sum(axis=1)
    return out


def chi2_ndf_replicas(pair: ReplicaPair, *, bins: int = 40) -> np.ndarray:
    """:func:`chi2_ndf_1d` of every pair of replicas (samples and resamples), ``(R,)``."""
    out = np.full(len(pair.truth.counts), np.nan)
    for rows, p, p_err, q, q_err in _replica_histograms(pair, bins):
        variance = p_err**2 + q_err**2
        used = variance > 0
        ndf = used.sum(axis=1) - 1
        terms = np.where(used, (p - q) ** 2 / np.where(used, variance, 1.0), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows] = np.where(ndf >= 1, terms.sum(axis=1) / ndf, np.nan)
    return out


def _replica_histograms(pair: ReplicaPair, bins: int) -> list[tuple[np.ndarray, ...]]:
    """Histograms of both samples on each truth replica's :func:`histogram_edges` (computed
    once per pair and number of bins).

    Returns:
        ``[(rows, p, p_err, q, q_err), ...]`` for groups of replicas sharing a number of bins
        ``k``: row indices ``(g,)``, and fractions and errors (see :func:`binned`) of shape
        ``(g, k)``.
    """
    return pair.memo(("histograms", bins), lambda: _histogram_groups(pair, bins))


def _histogram_groups(pair: ReplicaPair, bins: int) -> list[tuple[np.ndarray, ...]]:
    integer, count, first, last = pair.truth.distinct()
    discrete = integer & (count <= bins)
    continuous = np.flatnonzero(~discrete)
    groups = []
    if len(continuous):
        part = pair if len(continuous) == len(discrete) else pair.rows(continuous)
        low, high = edge_range(*part.truth_quantiles(EDGE_LEVELS).T)
        edges = np.linspace(low, high, bins + 1, axis=1)
        groups.append((continuous, *_binned_pair(part, edges)))
    for r in np.flatnonzero(discrete):
        edges = np.arange(first[r] - 0.5, last[r] + 1.0)[None, :]
        rows = np.array([r])
        groups.append((rows, *_binned_pair(pair.rows(rows), edges)))
    return groups


def _binned_pair(pair: ReplicaPair, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(p, p_err, q, q_err)`` of truth and generated on each replica's edges ``(R, k + 1)``."""
    return (*_replica_binned(pair.truth, edges), *_replica_binned(pair.generated, edges))


def _replica_binned(replicas: Replicas, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`binned` (with flow) of each replica on its own edges ``(R, k + 1)``; ``(R, k)`` each."""
    total = replicas.total[:, None]
    inner = edges[:, 1:-1]
    sums = replicas.between(inner, side="left")
    squares = replicas.between(inner, side="left", squares=True)
    return sums / total, np.sqrt(squares) / total


def separation_power(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    bins: int = 40,
) -> dict[str, float]:
    """Separation power ``S = 1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` per feature.

    ``p`` and ``q`` are the truth and generated histograms normalised to unit sum, on
    :func:`histogram_edges` of the truth with under- and overflow in the edge bins.
    S = 0 for identical histograms and 1 for disjoint ones (CaloChallenge, arXiv:2410.21611).

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.
        bins: bins per continuous feature.

    Returns:
        ``{feature: S}``, each in ``[0, 1]``.
    """
    columns, pairs = column_pairs(
        truth,
        generated,
        weights,
        features=features,
        metric="separation power",
        min_events=MIN_EVENTS_BINNED,
    )
    return {name: separation_power_1d(*pairs[name], bins=bins) for name in columns}


def chi2_ndf(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    bins: int = 40,
) -> dict[str, float]:
    """chi2 per degree of freedom between the normalised truth and generated histograms.

    ``chi2 = sum_i (p_i - q_i)^2 / (sigma_p,i^2 + sigma_q,i^2)`` over filled bins with
    ``sigma^2 = sum w^2 / (sum w)^2``, and ``ndf = filled bins - 1`` (both histograms are
    normalised); two samples of one distribution give about 1. The "lowest chi2" criterion of
    Lebese et al. ranks generators by it.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.
        bins: bins per continuous feature.

    Returns:
        ``{feature: chi2/ndf}``; NaN for a feature with fewer than two filled bins.
    """
    columns, pairs = column_pairs(
        truth,
        generated,
        weights,
        features=features,
        metric="chi2/ndf",
        min_events=MIN_EVENTS_BINNED,
    )
    return {name: chi2_ndf_1d(*pairs[name], bins=bins) for name in columns}
