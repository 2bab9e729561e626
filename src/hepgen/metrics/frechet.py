"""Fréchet physics distance (FPD), extrapolated to infinitely many events (arXiv:2211.10295)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights

__all__ = [
    "MIN_EVENTS_FPD",
    "WeightedDraw",
    "max_abs_normalise",
    "fpd",
    "fpd_arrays",
    "frechet_distance",
]

METRIC = "FPD"
#: Events each sample needs (the smallest batch must exceed the number of features, too).
MIN_EVENTS_FPD = 20


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet distance of two Gaussians, ``|mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2))``.

    ``Tr (C1 C2)^(1/2)`` is evaluated as ``Tr (C1^(1/2) C2 C1^(1/2))^(1/2)`` from symmetric
    eigen-decompositions, which is stable for (nearly) singular covariances.

    Arguments:
        mu1: mean, shape ``(d,)``.
        cov1: covariance, shape ``(d, d)``.
        mu2: mean, shape ``(d,)``.
        cov2: covariance, shape ``(d, d)``.

    Returns:
        The squared-distance-like Fréchet distance (>= 0 up to rounding).
    """
    values, vectors = np.linalg.eigh(cov1)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    inner = root @ cov2 @ root
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (inner + inner.T)), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * cross)


def max_abs_normalise(truth: np.ndarray, others: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Divide every column by the truth's largest absolute value (as JetNet does for FPD/KPD).

    A column that is zero throughout the truth is left as it is.

    Arguments:
        truth: shape ``(n, d)``.
        others: arrays of shape ``(m, d)`` to scale the same way.

    Returns:
        ``[truth / scale, *(x / scale for x in others)]``.
    """
    scale = np.max(np.abs(truth), axis=0)
    scale[scale == 0] = 1.0
    return [truth / scale, *(x / scale for x in others)]


class WeightedDraw:
    """Draws of events with replacement, with probability proportional to weight.

    The draws are those of ``rng.choice(n_events, size, p=weights / weights.sum())`` (numpy's
    algorithm: a uniform number per draw located in the cumulative probabilities), with the
    cumulative probabilities built once instead of at every draw.

    Arguments:
        weights: shape ``(n_events,)``, or ``None`` for equal probabilities.
        n_events: events to draw from.
    """

    def __init__(self, weights: np.ndarray | None, n_events: int) -> None:
        self.n_events = n_events
        self.cdf = None
        if weights is not None:
            cdf = (weights / weights.sum()).cumsum()
            self.cdf = cdf / cdf[-1]

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Indices of ``size`` events, shape ``(size,)``."""
        if self.cdf is None:
            return rng.choice(self.n_events, size=size, replace=True)
        uniform = rng.random(size)
        # Located in increasing order (much faster), then put back in the order drawn.
        order = np.argsort(uniform)
        index = np.empty(size, dtype=np.int64)
        index[order] = self.cdf.searchsorted(uniform[order], side="right")
        return index


def fpd_arrays(
    x: np.ndarray,
    y: np.ndarray,
    w_x: np.ndarray | None = None,
    w_y: np.ndarray | None = None,
    *,
    seed: int = 0,
    points: int = 10,
    batches: int = 20,
    min_fraction: float = 0.4,
) -> tuple[float, float]:
    """FPD of two standardised arrays (no input checks); see :func:`fpd`."""
    rng = np.random.default_rng(seed)
    n_max = min(len(x), len(y))
    n_min = max(int(min_fraction * n_max), x.shape[1] + 2)
    sizes = (1.0 / np.linspace(1.0 / n_min, 1.0 / n_max, points)).astype(int)
    draw_x, draw_y = WeightedDraw(w_x, len(x)), WeightedDraw(w_y, len(y))
    means = []
    for size in sizes:
        values = []
        for _ in range(batches):
            a = np.take(x, draw_x(rng, size), axis=0)
            b = np.take(y, draw_y(rng, size), axis=0)
            values.append(
                frechet_distance(
                    a.mean(axis=0),
                    np.atleast_2d(np.cov(a, rowvar=False)),
                    b.mean(axis=0),
                    np.atleast_2d(np.cov(b, rowvar=False)),
                )
            )
        means.append(np.mean(values))
    return _intercept(1.0 / sizes, np.asarray(means))


def _intercept(inverse_n: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Least-squares line ``values = a + b / N``; ``(max(a, 0), sigma_a)``."""
    design = np.column_stack([np.ones_like(inverse_n), inverse_n])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    residual = values - design @ coef
    dof = max(len(values) - 2, 1)
    covariance = np.linalg.inv(design.T @ design) * (residual @ residual) / dof
    return max(float(coef[0]), 0.0), float(np.sqrt(covariance[0, 0]))


def fpd(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    seed: int = 0,
    points: int = 10,
    batches: int = 20,
    normalise: bool = True,
) -> tuple[float, float]:
    """Fréchet physics distance extrapolated to infinite sample size (Kansal et al.,
    arXiv:2211.10295, as in the JetNet library).

    Each feature is divided by the truth's largest absolute value (JetNet's normalisation). For
    ``points`` sample sizes N spaced evenly in 1/N between 0.4 and 1 times the smaller sample,
    the Fréchet distance of ``batches`` pairs of N events drawn with replacement (with
    probability proportional to weight) is averaged; a straight line in 1/N is fitted and its
    intercept is the unbiased FPD. Without normalisation, two unit Gaussians whose means differ
    by ``delta`` give ``|delta|^2``.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to use; ``None`` takes every column of ``truth``.
        seed: seeds the draws.
        points: number of sample sizes (>= 3).
        batches: draws per sample size.
        normalise: divide by the truth's largest absolute values first.

    Returns:
        ``(FPD, uncertainty)``: the intercept (clipped at 0) and its standard error from the fit.
    """
    if points < 3 or batches < 1:
        msg = f"{METRIC}: needs points >= 3 and batches >= 1, found {points} and {batches}"
        raise HepgenError(msg)
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=METRIC, role="generated")
    needed = max(MIN_EVENTS_FPD, 3 * (len(columns) + 2))
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=METRIC, role=role)
        check_events(
            len(table), needed, metric=METRIC, role=f"{role} (for {len(columns)} features)"
        )
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=METRIC
    )
    x, y = truth_table.to_numpy(), generated_table.to_numpy()
    if normalise:
        x, y = max_abs_normalise(x, [y])
    return fpd_arrays(x, y, w_truth, w_generated, seed=seed, points=points, batches=batches)
