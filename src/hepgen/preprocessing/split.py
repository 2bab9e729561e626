"""Deterministic train/val/test split of an event table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError

__all__ = ["split_table"]


def split_table(
    table: pd.DataFrame, fractions: dict[str, float], *, seed: int
) -> dict[str, pd.DataFrame]:
    """Shuffle with ``seed`` and cut into consecutive parts of the given fractions.

    Arguments:
        table: the event table, n rows.
        fractions: part name → fraction, e.g. ``{"train": 0.6, "val": 0.2, "test": 0.2}``;
            they must sum to 1.
        seed: the split's seed.

    Returns:
        Part name → table (index reset); each row lands in exactly one part.
    """
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-9 or any(f <= 0 for f in fractions.values()):
        msg = f"preprocess.split: fractions must be positive and sum to 1, found {fractions} (sum {total:g})"
        raise HepgenError(msg)
    order = np.random.default_rng(seed).permutation(len(table))
    bounds = np.rint(np.cumsum([0.0, *fractions.values()]) * len(table)).astype(int)
    parts = {}
    for (name, _), lo, hi in zip(fractions.items(), bounds[:-1], bounds[1:], strict=True):
        if hi <= lo:
            msg = f"preprocess.split: part {name!r} is empty for {len(table)} events"
            raise HepgenError(msg)
        parts[name] = table.iloc[order[lo:hi]].reset_index(drop=True)
    return parts
