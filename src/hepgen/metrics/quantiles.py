"""Quantile MSE*: generated fractions in equal-probability quantiles of the truth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import Weights, column_pairs
from hepgen.metrics.replicas import ReplicaPair

__all__ = ["MIN_EVENTS_QUANTILES", "quantile_mse", "quantile_mse_1d", "quantile_mse_replicas"]

#: Events each sample needs.
MIN_EVENTS_QUANTILES = 10


def quantile_mse_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
    *,
    quantiles: int = 20,
) -> float:
    """Quantile MSE* of two 1D samples (no input checks); see :func:`quantile_mse`."""
    levels = np.arange(1, quantiles) / quantiles
    edges = np.unique(np.quantile(truth, levels, weights=w_truth, method="inverted_cdf"))
    expected = _fractions(truth, w_truth, edges)
    found = _fractions(generated, w_generated, edges)
    return float(np.sum((found - expected) ** 2))


def _fractions(values: np.ndarray, weights: np.ndarray | None, edges: np.ndarray) -> np.ndarray:
    """(Weighted) fraction of ``values`` in the cells ``(-inf, e_1], (e_1, e_2], ..., (e_k, inf)``."""
    cell = np.searchsorted(edges, values, side="left")
    counts = np.bincount(cell, weights=weights, minlength=len(edges) + 1)
    return counts / counts.sum()


def quantile_mse_replicas(pair: ReplicaPair, *, quantiles: int = 20) -> np.ndarray:
    """:func:`quantile_mse_1d` of every pair of replicas (the samples and their resamples).

    Coinciding truth quantiles are not merged: the empty cell between them holds no event of
    either sample and adds nothing to the sum.

    Returns:
        Shape ``(R,)``.
    """
    edges = pair.truth_quantiles(np.arange(1, quantiles) / quantiles)
    expected = pair.truth.between(edges, side="right") / pair.truth.total[:, None]
    found = pair.generated.between(edges, side="right") / pair.generated.total[:, None]
    return np.sum((found - expected) ** 2, axis=1)


def quantile_mse(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    quantiles: int = 20,
) -> dict[str, float]:
    """Quantile MSE* per feature (Butter et al., "GANplification", arXiv:2008.06545).

    The truth is split into ``N_q`` equal-probability quantiles; with ``p_j`` the fraction of
    generated events in quantile j, ``MSE* = sum_j (p_j - 1/N_q)^2``. For a feature with
    repeated values (a multiplicity) coinciding quantile edges merge and ``1/N_q`` becomes the
    truth fraction of each merged cell. 0 for identical samples; ``1 - 1/N_q`` when every
    generated event lies beyond the truth's range.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.
        quantiles: the number of quantiles ``N_q`` (>= 2).

    Returns:
        ``{feature: MSE*}``, each in ``[0, 2]``.
    """
    if isinstance(quantiles, bool) or not isinstance(quantiles, int) or quantiles < 2:
        msg = f"quantile MSE*: quantiles must be an integer >= 2, found {quantiles!r}"
        raise HepgenError(msg)
    columns, pairs = column_pairs(
        truth,
        generated,
        weights,
        features=features,
        metric="quantile MSE*",
        min_events=max(MIN_EVENTS_QUANTILES, quantiles),
    )
    return {name: quantile_mse_1d(*pairs[name], quantiles=quantiles) for name in columns}
