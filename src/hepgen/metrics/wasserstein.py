"""Per-feature 1-Wasserstein distance (:mod:`hepgen.stats`) in units of the truth's std."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights
from hepgen.metrics.replicas import ReplicaPair
from hepgen.stats import area_between_cdfs, wasserstein_1

__all__ = ["MIN_EVENTS_W1", "w1_1d", "w1_distances", "w1_replicas", "weighted_std"]

METRIC = "W1 distance"
#: Events each sample needs for a standard deviation and a distance to mean something.
MIN_EVENTS_W1 = 2


def weighted_std(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Standard deviation of ``values`` with frequency weights (population form).

    Arguments:
        values: array of shape ``(n,)``.
        weights: non-negative array of shape ``(n,)``, or ``None`` for unit weights.

    Returns:
        ``sqrt(sum w (x - mean)^2 / sum w)`` in the units of ``values``.
    """
    mean = np.average(values, weights=weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))


def w1_distances(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
) -> dict[str, float]:
    """1-Wasserstein distance between truth and generated marginals, divided by the truth's std.

    ``W1 / sigma_truth`` is dimensionless, so features in GeV and in rad can be compared and
    averaged; a shift of the mean by ``delta * sigma`` gives ``delta``. The use of W1 for
    judging generative models in particle physics follows Kansal et al., arXiv:2211.10295.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``;
            either may be ``None`` (unit weights).
        features: columns to compare; ``None`` takes every column of ``truth``.

    Returns:
        ``{feature: W1 / std_truth}``; 0 means identical marginals.
    """
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=METRIC, role="generated")
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=METRIC, role=role)
        check_events(len(table), MIN_EVENTS_W1, metric=METRIC, role=role)
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=METRIC
    )
    return {
        name: _normalised_w1(
            truth_table[name].to_numpy(),
            generated_table[name].to_numpy(),
            w_truth,
            w_generated,
            name,
        )
        for name in columns
    }


def w1_1d(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None = None,
    w_generated: np.ndarray | None = None,
) -> float:
    """W1 / std_truth of two 1D samples (no input checks).

    Arguments:
        truth: shape ``(n,)``.
        generated: shape ``(m,)``.
        w_truth: shape ``(n,)`` or ``None``.
        w_generated: shape ``(m,)`` or ``None``.

    Returns:
        The normalised distance; 0 for two equal constants, NaN for a constant truth and a
        generated sample that differs from it (undefined).
    """
    distance = float(wasserstein_1(truth, generated, w_truth, w_generated))
    scale = weighted_std(truth, w_truth)
    if scale > 0:
        return distance / scale
    return 0.0 if distance == 0 else float("nan")


def w1_replicas(pair: ReplicaPair) -> np.ndarray:
    """:func:`w1_1d` of every pair of replicas (the samples and their resamples).

    ``W1 = integral |F_truth - F_generated| dx`` over the merged sorted values of both.

    Arguments:
        pair: ``R`` replicas of the truth and the generated column.

    Returns:
        Shape ``(R,)``; NaN where the truth replica is constant and the generated one differs.
    """
    grid, difference = pair.cdf_distance
    distance = area_between_cdfs(grid, difference, axis=-1)
    scale = pair.truth.std()
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = distance / scale
    return np.where(scale > 0, normalised, np.where(distance == 0, 0.0, np.nan))


def _normalised_w1(
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None,
    w_generated: np.ndarray | None,
    name: str,
) -> float:
    value = w1_1d(truth, generated, w_truth, w_generated)
    if not np.isnan(value):
        return value
    distance = float(wasserstein_1(truth, generated, w_truth, w_generated))
    msg = (
        f"{METRIC}: the truth feature {name!r} is constant (std 0) but the generated one is "
        f"not (W1 = {distance:.4g}); the normalised distance is undefined — drop the feature "
        "from the comparison"
    )
    raise HepgenError(msg)
