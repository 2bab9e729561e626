"""Training events streamed from Parquet row groups through a shuffling buffer of bounded size.

A training split larger than memory (Balanzá García, "Impossible to load in main memory —
solution: circular buffer") is read one row group at a time. Each epoch visits the row groups
in a seeded random order and passes their events through a buffer of ``buffer`` events: once
the buffer is full, every incoming event takes the place of one drawn at random, which is
emitted; at the end of the file the buffer is emitted in a random order. Every event is thus
emitted exactly once per epoch, in an order that depends only on the file and the seed, and
the memory held is the buffer plus one row group, whatever the size of the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hepgen.errors import HepgenError
from hepgen.models.base import checked_events

if TYPE_CHECKING:
    import pandas as pd

    from hepgen.preprocessing import Transform
    from hepgen.preprocessing.condition import Conditioning

__all__ = ["Chunk", "EventStream", "Prepare", "Scan", "columns_prepare", "transform_prepare"]

Chunk = tuple[np.ndarray, np.ndarray | None]
"""Events (n, d) float32 and their weights (n,) float32, or ``None`` for unit weights."""

Prepare = Callable[["pd.DataFrame"], Chunk]
"""Turns one row group (a physical event table) into network inputs and weights."""


def transform_prepare(transform: Transform | Conditioning) -> Prepare:
    """Row group → ``transform.forward`` of it (a :class:`Transform`, or the
    :class:`Conditioning` of a conditional model) and its ``weight`` column (if any)."""

    def prepare(table: pd.DataFrame) -> Chunk:
        w = table["weight"].to_numpy(np.float64) if "weight" in table else None
        return transform.forward(table, log_outside=False), w

    return prepare


def columns_prepare(columns: list[str]) -> Prepare:
    """Row group → its ``columns`` as float32 (already transformed events), and ``weight``."""

    def prepare(table: pd.DataFrame) -> Chunk:
        w = table["weight"].to_numpy(np.float64) if "weight" in table else None
        return table[columns].to_numpy(np.float32), w

    return prepare


@dataclass
class Scan:
    """What one pass over the whole file measures (:meth:`EventStream.scan`).

    Attributes:
        sample: a seeded uniform sample of at most ``reservoir`` events, shape (r, d).
        weights: their weights (r,), or ``None``.
        digest: sha256 of every prepared event and weight, in file order (16 hex digits).
    """

    sample: np.ndarray
    weights: np.ndarray | None
    digest: str


class EventStream:
    """The training split in a Parquet file, read one row group at a time.

    Arguments:
        path: the Parquet file (e.g. ``results/<dataset>/split/train.parquet``).
        prepare: row group (physical table) → (events (g, d) float32, weights (g,) or None).
        buffer: events held by the shuffling buffer (at least 1).

    Peak memory: ``buffer`` events, one row group (read and prepared) and one batch.
    """

    def __init__(self, path: str | os.PathLike, prepare: Prepare, *, buffer: int) -> None:
        import pyarrow.parquet as pq

        if buffer < 1:
            msg = f"training: key 'stream_buffer' must be >= 1 to stream, found {buffer}"
            raise HepgenError(msg)
        self.path, self.prepare, self.buffer = os.fspath(path), prepare, buffer
        self.file = pq.ParquetFile(self.path)
        meta = self.file.metadata
        self.groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self.events = sum(self.groups)
        self.weight_mean = 1.0

    def __len__(self) -> int:
        return self.events

    def read(self, group: int) -> Chunk:
        """Row group ``group`` prepared: events float32 (g, d), weights divided by their mean."""
        x, w = self.prepare(self.file.read_row_group(group).to_pandas())
        x = np.ascontiguousarray(x, dtype=np.float32)
        if w is not None:
            w = (np.asarray(w, dtype=np.float64) / self.weight_mean).astype(np.float32)
        return x, w

    def scan(self, reservoir: int, *, seed: int, features: int, owner: str, negative: bool) -> Scan:
        """One pass in file order: check every event, normalise the weights, sample a reservoir.

        The weights are divided by their mean over the whole file from then on, as the
        in-memory loop does (:func:`hepgen.models.base.checked_weights`).

        Arguments:
            reservoir: events kept in the uniform sample (bottom-k,
                :class:`hepgen.preprocessing.sampling.BottomK`).
            seed: seeds the sample.
            features: the model's d.
            owner: e.g. ``"model type 'vae'"``, for messages.
            negative: whether the model can use negative weights.
        """
        from hepgen.preprocessing.sampling import BottomK  # pandas only when streaming

        self.weight_mean, digest = 1.0, hashlib.sha256()
        sample, total, below, weighted = BottomK(reservoir, seed), 0.0, 0, False
        for group in range(len(self.groups)):
            x, w = self.read(group)
            checked_events(x, f"training (row group {group} of {self.path})", features, owner)
            digest.update(x.tobytes())
            if w is None:
                sample.offer(group, x)
                continue
            weighted = True
            if not np.isfinite(w).all():
                msg = (
                    f"{owner}: training weights in row group {group} of {self.path} are not finite"
                )
                raise HepgenError(msg)
            digest.update(w.tobytes())
            total, below = total + float(w.sum(dtype=np.float64)), below + int((w < 0).sum())
            sample.offer(group, x, w)
        if weighted:
            self._check_weights(total, below, owner, negative)
        rows = sample.result()
        scale = 1.0 / self.weight_mean
        weights = (rows[1] * scale).astype(np.float32) if weighted else None
        return Scan(rows[0], weights, digest.hexdigest()[:16])

    def _check_weights(self, total: float, below: int, owner: str, negative: bool) -> None:
        if total <= 0:
            msg = f"{owner}: training weights in {self.path} must have a positive sum, found {total:g}"
            raise HepgenError(msg)
        if below and not negative:
            msg = (
                f"{owner} cannot use negative event weights: {below} of {self.events} training "
                f"events in {self.path} have weight < 0; remove them or choose a model that can"
            )
            raise HepgenError(msg)
        self.weight_mean = total / self.events

    def chunks(self, seed: int, *, skip: int = 0) -> Iterator[Chunk]:
        """One epoch: every event exactly once, in the order that ``seed`` fixes.

        Arguments:
            seed: seeds the row-group order and the buffer's draws (one per epoch).
            skip: leave out the first ``skip`` events (a resumed epoch); the order of the
                rest is the same as without skipping.

        Yields:
            Consecutive pieces of the epoch's event order.
        """
        emitted = 0
        for x, w in self._shuffled(np.random.default_rng(seed)):
            n = len(x)
            if emitted + n > skip:
                cut = max(0, skip - emitted)
                yield x[cut:], None if w is None else w[cut:]
            emitted += n

    def batches(self, seed: int, batch_size: int, *, skip: int = 0) -> Iterator[Chunk]:
        """:meth:`chunks` cut into batches of ``batch_size`` events (the last may be smaller)."""
        rest: Chunk | None = None
        for x, w in self.chunks(seed, skip=skip):
            if rest is not None:
                x = np.concatenate([rest[0], x])
                w = None if w is None else np.concatenate([rest[1], w])
            full = len(x) // batch_size * batch_size
            for lo in range(0, full, batch_size):
                yield x[lo : lo + batch_size], None if w is None else w[lo : lo + batch_size]
            rest = (x[full:], None if w is None else w[full:])
        if rest is not None and len(rest[0]):
            yield rest

    def _shuffled(self, rng: np.random.Generator) -> Iterator[Chunk]:
        size = min(self.buffer, self.events)
        buf: list[Any] = []
        fill = 0
        for group in rng.permutation(len(self.groups)):
            x, w = self.read(int(group))
            columns = [x] if w is None else [x, w]
            if not buf:
                buf = [np.empty((size, *c.shape[1:]), c.dtype) for c in columns]
            pos = min(size - fill, len(x))
            for b, c in zip(buf, columns, strict=True):
                b[fill : fill + pos] = c[:pos]
            fill += pos
            while pos < len(x):  # the buffer is full: each new event replaces a drawn one
                k = min(size, len(x) - pos)
                drawn = rng.choice(size, size=k, replace=False)
                out = [b[drawn] for b in buf]
                for b, c in zip(buf, columns, strict=True):
                    b[drawn] = c[pos : pos + k]
                pos += k
                yield out[0], out[1] if len(out) > 1 else None
        order = rng.permutation(fill)
        step = max(self.groups) if self.groups else 1
        for lo in range(0, fill, step):
            out = [b[order[lo : lo + step]] for b in buf]
            yield out[0], out[1] if len(out) > 1 else None
