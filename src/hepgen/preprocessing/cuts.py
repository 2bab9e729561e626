"""Tail cuts: remove events outside per-feature quantiles of the training split."""

from __future__ import annotations

import fnmatch
import logging
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError

__all__ = ["apply_cuts", "cut_patterns", "fit_cuts"]

log = logging.getLogger(__name__)


def _quantiles_for(column: str, config: dict[str, Any]) -> tuple[float, float]:
    low, high = config.get("low", 0.0), config.get("high", 1.0)
    for pattern, override in (config.get("features") or {}).items():
        if fnmatch.fnmatchcase(column, pattern):
            low, high = override.get("low", low), override.get("high", high)
            break
    if not 0.0 <= low < high <= 1.0:
        msg = f"preprocess.tail_cuts for {column!r}: need 0 <= low < high <= 1, found low={low}, high={high}"
        raise HepgenError(msg)
    return low, high


def cut_patterns(config: dict[str, Any]) -> list[str]:
    """The fnmatch patterns of ``config["features"]`` (the per-feature tail cuts)."""
    return list(config.get("features") or {})


def fit_cuts(
    train: pd.DataFrame, columns: list[str], config: dict[str, Any]
) -> dict[str, list[float]]:
    """Thresholds ``column → [lo, hi]`` at the configured quantiles of the training split.

    Quantile 0 and 1 give no cut on that side (``-inf`` / ``inf``); zero-padded entries of
    absent objects (value exactly 0) and NaN (a derived observable of an event that lacks its
    objects) are left out of the quantiles and never cut.

    Arguments:
        train: the training split table.
        columns: feature columns that may be cut.
        config: ``{"low": q, "high": q, "features": {pattern: {"low": q, "high": q}}}``.
    """
    cuts = {}
    for column in columns:
        low, high = _quantiles_for(column, config)
        if low == 0.0 and high == 1.0:
            continue
        values = train[column].to_numpy(np.float64)
        values = values[(values != 0.0) & ~np.isnan(values)]
        if values.size == 0:
            continue
        lo = float(np.quantile(values, low)) if low > 0 else -np.inf
        hi = float(np.quantile(values, high)) if high < 1 else np.inf
        cuts[column] = [lo, hi]
    return cuts


def apply_cuts(
    table: pd.DataFrame, cuts: dict[str, list[float]], *, name: str = "table"
) -> tuple[pd.DataFrame, float]:
    """Remove events with any cut column outside its thresholds (zeros and NaN are kept).

    Returns:
        The kept events and the fraction removed; the fraction is logged.
    """
    keep = np.ones(len(table), dtype=bool)
    for column, (lo, hi) in cuts.items():
        x = table[column].to_numpy(np.float64)
        keep &= (x == 0.0) | np.isnan(x) | ((x >= lo) & (x <= hi))
    removed = 1.0 - keep.mean() if len(table) else 0.0
    if cuts:
        log.info(
            "tail cuts removed %.3f %% of the %s events (%d of %d)",
            100 * removed,
            name,
            (~keep).sum(),
            len(table),
        )
    return table[keep].reset_index(drop=True), float(removed)
