"""Generate events from a trained model in bounded-memory batches and map them to physical units."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from tqdm import tqdm

from hepgen.devices import pick_device, retain_freed_memory
from hepgen.errors import HepgenError, positive_int
from hepgen.io.tables import write_stream
from hepgen.models.base import EventGenerator, sample_given
from hepgen.seeds import derive_seed

__all__ = ["CPU_CHUNK", "iter_samples", "sample_events", "write_samples"]

log = logging.getLogger(__name__)

# Events per network call on the CPU: the activations of a 128-wide MLP stay in the L2 cache
# (about twice the throughput of 100k-event calls), and the calls are long enough that two
# workers seldom wait for each other's Python dispatch (1024 events: 10 % slower with two
# workers, though 8 % faster with one); a GPU gets the whole batch in one call.
CPU_CHUNK = 4096

Inverse = Callable[[np.ndarray, np.random.Generator], pd.DataFrame]
Postprocess = Callable[[pd.DataFrame], tuple[pd.DataFrame, dict[str, Any]]]


def sample_events(model: EventGenerator, n: int, **options: Any) -> tuple[pd.DataFrame, dict]:
    """Draw ``n`` events from ``model`` and return them as one event table.

    Arguments:
        model: a trained generator.
        n: number of events.
        options: the keyword arguments of :func:`iter_samples` (``seed``, ``batch_size``,
            ``inverse``, ...); :func:`write_samples` streams the same events to a Parquet
            file instead, in bounded memory.

    Returns:
        The table with ``n`` rows and the record of :func:`iter_samples`.
    """
    info: dict[str, Any] = {}
    table = pd.concat(list(iter_samples(model, n, info=info, **options)), ignore_index=True)
    return table, info


def write_samples(path: str | os.PathLike, model: EventGenerator, n: int, **options: Any) -> dict:
    """Draw ``n`` events from ``model`` into a Parquet file, one row group per batch.

    Each batch is written (:func:`hepgen.io.write_stream`) while the workers draw the next
    ones, so memory holds a few batches whatever ``n``; the file appears (atomically) only
    when the draw succeeds (see :func:`iter_samples`).

    Arguments:
        path: the Parquet file (the format of :func:`hepgen.io.write_table`).
        model: a trained generator.
        n: number of events.
        options: the keyword arguments of :func:`iter_samples` (``seed``, ``batch_size``,
            ``inverse``, ...).

    Returns:
        The record of :func:`iter_samples`; its ``seconds`` and ``rate_hz`` include writing.
    """
    info: dict[str, Any] = {}
    start = time.perf_counter()
    tables = iter_samples(model, n, info=info, **options)
    write_stream(path, (pa.Table.from_pandas(t, preserve_index=False) for t in tables))
    _timed(info, n, start, f"and wrote them to {os.fspath(path)}")
    return info


def iter_samples(
    model: EventGenerator,
    n: int,
    *,
    seed: int,
    batch_size: int,
    inverse: Inverse,
    postprocess: Postprocess | None = None,
    device: str = "cpu",
    workers: int = 1,
    max_removed_fraction: float = 0.01,
    info: dict[str, Any] | None = None,
    conditions: np.ndarray | None = None,
) -> Iterator[pd.DataFrame]:
    """Draw ``n`` events from ``model``; yield them batch by batch, in order, as event tables.

    The events are drawn in batches of at most ``batch_size``; batch ``i`` has its own torch
    generator and NumPy generator, both seeded from ``(seed, i)``, so the events depend on
    the seed, the batch size and the device, not on how many workers drew them. Each batch is
    drawn in transformed space (on the CPU in network calls of :data:`CPU_CHUNK` events),
    mapped by ``inverse`` and then by ``postprocess``. Events with NaN/inf values (network
    outputs or physical values) are removed and counted (reason ``non_finite``), as are those
    ``postprocess`` removes; no single event fails the draw, but more than
    ``max_removed_fraction`` of ``n`` removed raises :class:`HepgenError` after the last batch
    (so :func:`write_samples` writes no file). On the CPU,
    ``workers`` threads each run whole batches with one torch thread: the small networks
    and the NumPy inverse gain more from that than from splitting every operation. At most
    ``workers`` + 1 batches are held at once.

    Arguments:
        model: a trained generator (moved to ``device``, set to eval mode).
        n: number of events.
        seed: seeds the generators.
        batch_size: events per batch; bounds memory.
        inverse: maps a float32 batch (m, d) and a NumPy generator (for random angles) to a
            table in physical units (GeV, rad), e.g. ``Transform.inverse``.
        postprocess: maps a table to the repaired table and a validity record
            ``{"events", "invalid", "reasons", "removed"}`` (e.g. ``Transform.postprocess``),
            optionally with ``"outside_selection"``: events it dropped as outside the
            dataset's selection, which do not count as removed; the records of the batches
            are summed.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        workers: CPU threads drawing batches at once (1 on a GPU).
        max_removed_fraction: the largest fraction of ``n`` that may be removed.
        info: filled when the last batch has been consumed with ``{"events"`` (written),
            ``"seconds", "rate_hz", "device", "workers", "validity"}``; ``rate_hz`` counts events per second of wall time from the first draw to
            the consumption of the last batch (inverse and postprocess included).
        conditions: for a conditional model, the transformed condition rows of the ``n``
            events, float32 of shape (n, k) (``Conditioning.encode``); ``None`` draws them from
            the model's stored training rows.
    """
    for key, value in {"events": n, "batch_size": batch_size, "workers": workers}.items():
        positive_int(value, f"sampling: {key}")
    info = {} if info is None else info
    device = pick_device(device)
    if device == "cpu":
        retain_freed_memory()  # every network call allocates and frees its activations
    model.to(device).eval()
    workers = workers if device == "cpu" else 1
    chunk = CPU_CHUNK if device == "cpu" else batch_size
    sizes = [min(batch_size, n - lo) for lo in range(0, n, batch_size)]
    if conditions is not None:
        conditions = np.asarray(conditions, dtype=np.float32)
        if conditions.shape != (n, getattr(model, "conditions", 0)):
            msg = (
                f"sampling: conditions must have shape ({n}, {getattr(model, 'conditions', 0)}) "
                f"for {n} events of model type {model.model_type!r}, found {conditions.shape}"
            )
            raise HepgenError(msg)

    errstate = np.geterr()  # NumPy's error handling is per thread: give workers the caller's

    def draw(index: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        with np.errstate(**errstate):
            return draw_batch(index)

    def draw_batch(index: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        generator = torch.Generator(device=device).manual_seed(derive_seed(seed, "batch", index))
        rows = None
        if conditions is not None:
            lo = index * batch_size
            rows = torch.from_numpy(conditions[lo : lo + sizes[index]]).to(device)
        with torch.inference_mode():
            x = _network_draw(model, sizes[index], generator, chunk, rows).float().cpu().numpy()
        finite = np.isfinite(x).all(axis=1)
        if not finite.all():
            x = x[finite]
        table = inverse(x, np.random.default_rng([seed, index]))
        physical = np.isfinite(table.to_numpy(float)).all(axis=1)
        if not physical.all():
            table = table[physical].reset_index(drop=True)
        if postprocess is not None:
            table, validity = postprocess(table)
        else:
            validity = {
                "events": len(table),
                "invalid": 0,
                "reasons": {},
                "removed": 0,
                "unphysical": 0,
            }
        return table, _with_non_finite(validity, int((~finite).sum()) + int((~physical).sum()))

    records = []
    start = time.perf_counter()
    # OpenMP's thread count is per thread: set it in every worker, not only here
    threads = 1 if workers > 1 else torch.get_num_threads()
    with (
        _torch_threads(threads),
        ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(threads,)) as pool,
    ):
        with tqdm(total=n, desc=f"sample {model.model_type}", unit="ev", file=sys.stderr) as bar:
            for table, validity in _ordered(pool, draw, len(sizes), workers):
                records.append(validity)
                yield table
                bar.update(validity["events"])
    validity = merge_validity(records)
    removed = validity["removed"] / n
    if removed > max_removed_fraction:
        msg = (
            f"model type {model.model_type!r} (seed {seed}): {validity['removed']} of {n} generated "
            f"events ({removed:.2%}) are unusable ({validity['reasons']}), more than "
            f"sample.max_removed_fraction = {max_removed_fraction}"
        )
        raise HepgenError(msg)
    if validity["removed"]:
        log.warning(
            "%d of %d generated events (%.3g %%) were removed as unusable: %s",
            validity["removed"],
            n,
            100 * removed,
            {k: v for k, v in validity["reasons"].items() if k in ("non_finite", "unusable")},
        )
    delivered = n - validity["removed"] - validity["outside_selection"]
    info.update(events=delivered, device=device, workers=workers)
    info["validity"] = validity
    _timed(info, n, start)


def _with_non_finite(validity: dict[str, Any], count: int) -> dict[str, Any]:
    """Add ``count`` events removed for NaN/inf values (drawn, then removed) to a record."""
    if not count:
        return validity
    events = validity["events"] + count
    invalid = validity["invalid"] + count
    reasons = {**validity["reasons"], "non_finite": count}
    removed = validity.get("removed", 0) + count
    return validity | {
        "unphysical": validity.get("unphysical", 0) + count,
        "events": events,
        "invalid": invalid,
        "invalid_fraction": invalid / events,
        "reasons": reasons,
        "removed": removed,
    }


def _timed(info: dict[str, Any], n: int, start: float, what: str = "") -> None:
    """Set ``seconds`` and ``rate_hz`` of a sampling record from ``start``, and log them."""
    seconds = time.perf_counter() - start
    info.update(seconds=seconds, rate_hz=n / seconds)
    log.info(
        "sampled %d events %sin %.2f s (%.0f Hz) on %s with %d worker(s)",
        n,
        f"{what} " if what else "",
        seconds,
        n / seconds,
        info["device"],
        info["workers"],
    )


def merge_validity(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum per-batch validity records ``{"events", "invalid", "reasons", "removed",
    "unphysical"}``, ``"outside_selection"`` (events a postprocess dropped as outside the
    dataset's selection) and ``"outside_selection_kept"`` (outside it, but kept), 0 where
    absent, into one, with the fractions of invalid and of unphysical events."""
    events = sum(r["events"] for r in records)
    invalid = sum(r["invalid"] for r in records)
    reasons: dict[str, int] = {}
    for record in records:
        for reason, count in record["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    return {
        "events": events,
        "invalid": invalid,
        "invalid_fraction": invalid / events if events else 0.0,
        "reasons": dict(sorted(reasons.items())),
        "removed": sum(r.get("removed", 0) for r in records),
        "outside_selection": sum(r.get("outside_selection", 0) for r in records),
        "outside_selection_kept": sum(r.get("outside_selection_kept", 0) for r in records),
        "unphysical": (unphysical := sum(r.get("unphysical", 0) for r in records)),
        "unphysical_fraction": unphysical / events if events else 0.0,
    }


def _network_draw(
    model: EventGenerator,
    n: int,
    generator: torch.Generator,
    chunk: int,
    conditions: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` events (n, d) from ``model`` in calls of at most ``chunk`` events, given the
    condition rows (n, k) of a conditional model."""
    parts = []
    for lo in range(0, n, chunk):
        rows = None if conditions is None else conditions[lo : lo + chunk]
        parts.append(sample_given(model, min(chunk, n - lo), generator, rows))
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _ordered(pool: ThreadPoolExecutor, fn: Callable, count: int, ahead: int) -> Iterator:
    """``fn(0), fn(1), ...`` in order, with at most ``ahead`` + 1 calls in flight (bounded memory)."""
    pending = [pool.submit(fn, i) for i in range(min(ahead, count))]
    for i in range(count):
        if i + ahead < count:
            pending.append(pool.submit(fn, i + ahead))
        yield pending.pop(0).result()


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """Set torch's intra-op thread count for the block and restore it afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
