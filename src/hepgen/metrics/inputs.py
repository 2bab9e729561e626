"""Input checks shared by the metrics: columns, finite values, event counts, weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hepgen.errors import HepgenError

__all__ = [
    "ColumnPair",
    "Weights",
    "as_table",
    "check_events",
    "check_finite",
    "column_pairs",
    "column_weights",
    "event_weights",
    "pair_weights",
]

#: Per-event weights of ``(truth, generated)``; either entry (or the whole) may be ``None``.
Weights = tuple[ArrayLike | None, ArrayLike | None] | None


def as_table(
    data: pd.DataFrame | ArrayLike, *, features: Sequence[str] | None, metric: str, role: str
) -> pd.DataFrame:
    """Return the feature columns of ``data`` as a float64 DataFrame.

    Arguments:
        data: an event table, or an array of shape ``(n,)`` or ``(n, d)`` (columns named
            ``x0, x1, ...``).
        features: the columns to keep, in order; ``None`` keeps every column.
        metric: the metric's name, used in error messages.
        role: ``"truth"`` or ``"generated"``, used in error messages.

    Returns:
        A DataFrame of shape ``(n, len(features))``.
    """
    if not isinstance(data, pd.DataFrame):
        array = np.asarray(data, dtype=np.float64)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            msg = (
                f"{metric}: {role} array must have shape (n,) or (n, d), found shape {array.shape}"
            )
            raise HepgenError(msg)
        data = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    columns = list(data.columns) if features is None else list(features)
    if not columns:
        msg = f"{metric}: no features to compare in the {role} table"
        raise HepgenError(msg)
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        msg = f"{metric}: the features {repeated} are listed more than once"
        raise HepgenError(msg)
    missing = [name for name in columns if name not in data.columns]
    if missing:
        msg = (
            f"{metric}: the {role} table lacks the feature columns {missing}; "
            f"it has {list(data.columns)}"
        )
        raise HepgenError(msg)
    try:
        return data[columns].astype(np.float64)
    except (TypeError, ValueError) as error:
        msg = f"{metric}: the {role} feature columns {columns} are not all numeric ({error})"
        raise HepgenError(msg) from error


def check_finite(table: pd.DataFrame, *, metric: str, role: str, allow_nan: bool = False) -> None:
    """Raise if a column of ``table`` holds NaN or infinite values, naming the column and count.

    Arguments:
        table: a numeric DataFrame of shape ``(n, d)``.
        metric: the metric's name, used in error messages.
        role: ``"truth"`` or ``"generated"``, used in error messages.
        allow_nan: accept NaN (a value marked missing); infinities are still refused.
    """
    values = table.to_numpy()
    bad = (np.isinf(values) if allow_nan else ~np.isfinite(values)).sum(axis=0)
    found = {name: int(count) for name, count in zip(table.columns, bad, strict=True) if count}
    if found:
        listing = ", ".join(f"{name!r}: {count} of {len(table)}" for name, count in found.items())
        what = "infinite" if allow_nan else "NaN or infinite"
        msg = f"{metric}: the {role} events hold {what} values in columns {listing} events"
        raise HepgenError(msg)


def check_events(n_found: int, n_needed: int, *, metric: str, role: str) -> None:
    """Raise if fewer than ``n_needed`` events are available.

    Arguments:
        n_found: events available.
        n_needed: events the metric needs.
        metric: the metric's name, used in error messages.
        role: which sample is short, used in error messages.
    """
    if n_found < n_needed:
        msg = f"{metric}: needs at least {n_needed} {role} events, found {n_found}"
        raise HepgenError(msg)


def event_weights(
    weights: ArrayLike | None, n_events: int, *, metric: str, role: str
) -> np.ndarray | None:
    """Check per-event weights: one finite, non-negative value per event, positive sum.

    Arguments:
        weights: array of shape ``(n_events,)`` or ``None`` (unit weights).
        n_events: number of events in the sample.
        metric: the metric's name, used in error messages.
        role: ``"truth"`` or ``"generated"``, used in error messages.

    Returns:
        The weights as float64 of shape ``(n_events,)``, or ``None``.
    """
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n_events,):
        msg = f"{metric}: expected {n_events} {role} weights (one per event), found {w.size}"
        raise HepgenError(msg)
    n_bad = int((~np.isfinite(w)).sum())
    n_negative = int((w < 0).sum())
    if n_bad or n_negative:
        msg = (
            f"{metric}: {role} weights must be finite and non-negative, found {n_bad} NaN/inf "
            f"and {n_negative} negative of {n_events}"
        )
        raise HepgenError(msg)
    if not w.sum() > 0:
        msg = f"{metric}: the {role} weights sum to zero"
        raise HepgenError(msg)
    return w


def pair_weights(
    weights: Weights, n_truth: int, n_generated: int, *, metric: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Unpack and check ``(truth, generated)`` weights.

    Arguments:
        weights: ``None`` or a pair of arrays of shapes ``(n_truth,)`` and ``(n_generated,)``.
        n_truth: truth events.
        n_generated: generated events.
        metric: the metric's name, used in error messages.

    Returns:
        The two checked weight arrays (each possibly ``None``).
    """
    if weights is None:
        return None, None
    if not isinstance(weights, tuple | list) or len(weights) != 2:
        msg = (
            f"{metric}: weights must be a pair (truth_weights, generated_weights), "
            f"found {type(weights).__name__}"
        )
        raise HepgenError(msg)
    return (
        event_weights(weights[0], n_truth, metric=metric, role="truth"),
        event_weights(weights[1], n_generated, metric=metric, role="generated"),
    )


def column_weights(
    truth: pd.DataFrame, generated: pd.DataFrame, column: str | None, *, metric: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-event weights from a column of each table; a table without it has unit weights.

    Arguments:
        truth: truth event table.
        generated: generated event table.
        column: the weight column (e.g. ``"weight"``), or ``None`` to ignore weights.
        metric: the metric's name, used in error messages.

    Returns:
        ``(truth_weights, generated_weights)``, each of shape ``(n,)`` or ``None``.
    """
    pair = []
    for role, table in (("truth", truth), ("generated", generated)):
        if column is None or column not in table.columns:
            pair.append(None)
            continue
        where = f"{metric}, column {column!r}"
        pair.append(event_weights(table[column].to_numpy(), len(table), metric=where, role=role))
    return pair[0], pair[1]


#: One column of both samples: ``(truth, generated, truth_weights, generated_weights)``.
ColumnPair = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


def column_pairs(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights,
    *,
    features: Sequence[str] | None,
    metric: str,
    min_events: int,
) -> tuple[list[str], dict[str, ColumnPair]]:
    """Check both samples column by column, as every per-feature metric does.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``.
        features: columns to compare; ``None`` takes every column of ``truth``.
        metric: the metric's name, used in error messages.
        min_events: events each sample needs.

    Returns:
        The columns, and ``{name: (truth (n,), generated (m,), w_truth, w_generated)}``.
    """
    truth_table = as_table(truth, features=features, metric=metric, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=metric, role="generated")
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=metric, role=role)
        check_events(len(table), min_events, metric=metric, role=role)
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=metric
    )
    pairs = {
        name: (truth_table[name].to_numpy(), generated_table[name].to_numpy(), w_truth, w_generated)
        for name in columns
    }
    return columns, pairs
