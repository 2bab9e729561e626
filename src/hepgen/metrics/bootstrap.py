"""Bootstrap resampling and the ``{value, err, floor, floor_err}`` entry every metric reports."""

from __future__ import annotations

import numpy as np

__all__ = ["Resamples", "entry", "nan_std", "resamples"]

#: Row indices of (reference, other) for each bootstrap resample.
Resamples = list[tuple[np.ndarray, np.ndarray]]


def resamples(rng: np.random.Generator, n_reference: int, n_other: int, n_boot: int) -> Resamples:
    """Draw ``n_boot`` pairs of row indices with replacement, each as long as its sample.

    Arguments:
        rng: the random source.
        n_reference: events of the reference (truth) sample.
        n_other: events of the compared sample.
        n_boot: number of resamples.

    Returns:
        ``[(index_reference (n_reference,), index_other (n_other,)), ...]``.
    """
    return [
        (rng.integers(0, n_reference, n_reference), rng.integers(0, n_other, n_other))
        for _ in range(n_boot)
    ]


def nan_std(replicates: np.ndarray) -> np.ndarray:
    """Standard deviation (ddof 1) over axis 0, ignoring NaN; NaN where < 2 values are finite.

    Arguments:
        replicates: shape ``(B, ...)``.

    Returns:
        Shape ``(...)``.
    """
    finite = np.isfinite(replicates)
    count = finite.sum(axis=0)
    filled = np.where(finite, replicates, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        square = np.where(finite, (replicates - mean) ** 2, 0.0).sum(axis=0)
        return np.where(count >= 2, np.sqrt(square / (count - 1)), np.nan)


def entry(value: float, err: float, floor: float, floor_err: float) -> dict[str, float]:
    """The record of one metric: its value and the truth-vs-truth floor, each with uncertainty.

    Arguments:
        value: the metric between truth and generated events.
        err: its statistical uncertainty.
        floor: the same metric between two disjoint halves of the truth.
        floor_err: its statistical uncertainty.

    Returns:
        ``{"value", "err", "floor", "floor_err"}`` as plain floats.
    """
    return {
        "value": float(value),
        "err": float(err),
        "floor": float(floor),
        "floor_err": float(floor_err),
    }
