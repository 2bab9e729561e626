"""A seeded uniform sample of bounded size drawn in one pass over chunks of events.

Bottom-k sampling (priority sampling with equal weights): every event gets a uniform key from
a generator seeded by (seed, chunk number), and the sample is the ``size`` events with the
smallest keys. The result depends only on the events and the seed, not on how the pass is
cut into calls beyond the chunk numbering, and memory stays at ``size`` events plus one chunk.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BottomK", "dkw_bound"]


def dkw_bound(size: int, confidence: float = 0.999) -> float:
    """Largest deviation of a uniform sample's CDF from the full set's, at ``confidence``.

    The Dvoretzky-Kiefer-Wolfowitz inequality (with Massart's constant) bounds
    ``sup_x |F_sample(x) - F(x)| <= sqrt(ln(2 / (1 - confidence)) / (2 size))``; sampling
    without replacement from a finite set only tightens it. So a quantile fitted on the
    sample sits at a rank within this fraction of the exact one.

    Arguments:
        size: events in the sample.
        confidence: probability that the bound holds, in (0, 1).

    Returns:
        The bound on the rank error, a fraction in (0, 1]; e.g. 0.0019 for 10⁶ events at 0.999.
    """
    return min(1.0, math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * size)))


class BottomK:
    """The ``size`` rows with the smallest seeded uniform keys among all rows offered.

    Arguments:
        size: rows kept at most.
        seed: seeds the keys.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed = size, seed
        self.keys = np.empty(0)
        self.rows: list[np.ndarray] = []
        self.offered = 0

    def offer(self, chunk: int, *columns: np.ndarray) -> None:
        """Offer the rows of chunk number ``chunk``: arrays of equal length (rows first)."""
        n = len(columns[0])
        keys = np.random.default_rng([self.seed, chunk]).random(n)
        self.offered += n
        if len(self.keys) >= self.size:  # only keys below the current largest can enter
            take = np.flatnonzero(keys < self.keys.max())
            keys, columns = keys[take], tuple(c[take] for c in columns)
        if not self.rows:
            self.rows = [np.empty((0, *c.shape[1:]), c.dtype) for c in columns]
        merged = np.concatenate([self.keys, keys])
        rows = [np.concatenate([a, b]) for a, b in zip(self.rows, columns, strict=True)]
        if len(merged) > self.size:
            keep = np.argpartition(merged, self.size - 1)[: self.size]
            merged, rows = merged[keep], [r[keep] for r in rows]
        self.keys, self.rows = merged, rows

    def result(self) -> list[np.ndarray]:
        """The kept rows of every column, ordered by key (a seeded random order)."""
        order = np.argsort(self.keys, kind="stable")
        return [r[order] for r in self.rows]
