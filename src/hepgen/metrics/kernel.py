"""Kernel physics distance (KPD): unbiased MMD^2 with a polynomial kernel (arXiv:2211.10295)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError
from hepgen.metrics.frechet import WeightedDraw, max_abs_normalise
from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights

__all__ = ["MIN_EVENTS_KPD", "kpd", "kpd_arrays", "mmd2_unbiased"]

METRIC = "KPD"
#: Events each sample needs.
MIN_EVENTS_KPD = 10


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, *, degree: int = 4) -> float:
    """Unbiased MMD^2 of two samples with the kernel ``k(a, b) = (a . b / d + 1)^degree``.

    Arguments:
        x: shape ``(m, d)``.
        y: shape ``(n, d)``.
        degree: polynomial degree (JetNet uses 4).

    Returns:
        The estimate; its expectation is 0 for one distribution, so it can be slightly negative.
    """
    d = x.shape[1]

    def kernel_sum(a: np.ndarray, b: np.ndarray) -> float:
        return float(_power(a @ b.T / d + 1.0, degree).sum())

    def self_term(a: np.ndarray) -> float:
        diagonal = _power(np.einsum("ij,ij->i", a, a) / d + 1.0, degree).sum()
        return (kernel_sum(a, a) - diagonal) / (len(a) * (len(a) - 1))

    return self_term(x) + self_term(y) - 2.0 * kernel_sum(x, y) / (len(x) * len(y))


def _power(base: np.ndarray, degree: int) -> np.ndarray:
    """``base ** degree`` by repeated squaring, in place (much faster than ``**`` for big arrays)."""
    result = np.ones_like(base)
    while degree:
        if degree & 1:
            result *= base
        degree >>= 1
        if degree:
            base = base * base
    return result


def kpd_arrays(
    x: np.ndarray,
    y: np.ndarray,
    w_x: np.ndarray | None = None,
    w_y: np.ndarray | None = None,
    *,
    seed: int = 0,
    batches: int = 10,
    batch_size: int = 5000,
    degree: int = 4,
) -> tuple[float, float]:
    """KPD of two standardised arrays (no input checks); see :func:`kpd`."""
    rng = np.random.default_rng(seed)
    size = min(batch_size, len(x), len(y))
    draw_x, draw_y = WeightedDraw(w_x, len(x)), WeightedDraw(w_y, len(y))
    values = [
        mmd2_unbiased(x[draw_x(rng, size)], y[draw_y(rng, size)], degree=degree)
        for _ in range(batches)
    ]
    low, high = np.percentile(values, [16.275, 83.725])
    return float(np.median(values)), float(0.5 * (high - low))


def kpd(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    seed: int = 0,
    batches: int = 10,
    batch_size: int = 5000,
    degree: int = 4,
    normalise: bool = True,
) -> tuple[float, float]:
    """Kernel physics distance (Kansal et al., arXiv:2211.10295, as in the JetNet library).

    Each feature is divided by the truth's largest absolute value (JetNet's normalisation,
    which keeps the polynomial kernel bounded for steeply falling spectra); for each of
    ``batches`` pairs of ``min(batch_size, n, m)`` events drawn with replacement (probability
    proportional to weight) the unbiased MMD^2 with kernel ``(x . y / d + 1)^degree`` is
    computed. The median is the KPD, half the 16-84 % inter-quantile range its uncertainty.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to use; ``None`` takes every column of ``truth``.
        seed: seeds the draws.
        batches: number of batches (>= 2).
        batch_size: events per batch and sample.
        degree: kernel degree (3 or 4 are usual).
        normalise: divide by the truth's largest absolute values first.

    Returns:
        ``(KPD, uncertainty)``; KPD is about 0 (either sign) for one distribution.
    """
    if batches < 2 or batch_size < 2 or degree < 1:
        msg = (
            f"{METRIC}: needs batches >= 2, batch_size >= 2 and degree >= 1, found "
            f"{batches}, {batch_size} and {degree}"
        )
        raise HepgenError(msg)
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=METRIC, role="generated")
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=METRIC, role=role)
        check_events(len(table), MIN_EVENTS_KPD, metric=METRIC, role=role)
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=METRIC
    )
    x, y = truth_table.to_numpy(), generated_table.to_numpy()
    if normalise:
        x, y = max_abs_normalise(x, [y])
    return kpd_arrays(
        x, y, w_truth, w_generated, seed=seed, batches=batches, batch_size=batch_size, degree=degree
    )
