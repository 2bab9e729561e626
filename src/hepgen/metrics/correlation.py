"""Spearman rank-correlation matrices of the features and the norm of their difference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights
from hepgen.stats import spearman_matrix, weighted_correlation, weighted_ranks

__all__ = [
    "MIN_EVENTS_SPEARMAN",
    "spearman_distance",
    "spearman_matrix",
    "spearman_replicas",
    "weighted_ranks",
]

METRIC = "Spearman correlation"
#: Events each sample needs.
MIN_EVENTS_SPEARMAN = 3


def spearman_replicas(x: np.ndarray, weights: np.ndarray | None, counts: np.ndarray) -> np.ndarray:
    """:func:`spearman_matrix` of a sample and of its resamples, given as draw counts.

    Each column is sorted once; a resample's mid-ranks are then cumulative sums of its draw
    counts (times the weights) in that order, and an undrawn event has weight 0. Equals
    :func:`spearman_matrix` of the resampled events up to floating-point rounding.

    Arguments:
        x: events, shape ``(n, d)``.
        weights: shape ``(n,)`` or ``None``.
        counts: times each event enters each replica, shape ``(R, n)``
            (:func:`hepgen.metrics.replicas.draw_counts`).

    Returns:
        Shape ``(R, d, d)``.
    """
    n, d = x.shape
    orders, ties = [], []
    for column in x.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        changes = np.concatenate([[True], ordered[1:] != ordered[:-1]])
        orders.append(order)
        if changes.all():
            ties.append(None)  # every run of equal values is one event long
            continue
        first = np.flatnonzero(changes)  # sorted position where each run of ties starts
        group = np.cumsum(changes) - 1
        ties.append((first[group], np.append(first[1:], n)[group]))
    out = np.empty((len(counts), d, d))
    ranks = np.empty((d, n))
    cumulative = np.zeros(n + 1)
    for r, drawn in enumerate(counts):
        w = drawn if weights is None else drawn * weights
        for j in range(d):
            np.cumsum(w[orders[j]], out=cumulative[1:])
            if ties[j] is None:
                below, through = cumulative[:-1], cumulative[1:]
            else:
                below, through = cumulative[ties[j][0]], cumulative[ties[j][1]]
            ranks[j, orders[j]] = through - 0.5 * (through - below)
        out[r] = weighted_correlation(ranks.T, w)
    return out


def spearman_distance(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
) -> float:
    """Frobenius norm of the difference of the Spearman correlation matrices.

    ``||rho_generated - rho_truth||_F`` over all feature pairs (each off-diagonal pair counted
    twice, the diagonal is zero); the feature correlations that Stevenson et al. compare for
    VAE event generators. 0 for identical samples.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.

    Returns:
        The norm, in ``[0, 2 sqrt(d (d - 1))]``.
    """
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=METRIC, role="generated")
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=METRIC, role=role)
        check_events(len(table), MIN_EVENTS_SPEARMAN, metric=METRIC, role=role)
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=METRIC
    )
    difference = spearman_matrix(generated_table.to_numpy(), w_generated) - spearman_matrix(
        truth_table.to_numpy(), w_truth
    )
    return float(np.linalg.norm(difference))
