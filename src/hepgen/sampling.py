"""Generate events from a trained model in bounded-memory batches and map them to physical units."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from hepgen.models.base import EventGenerator
from hepgen.runtime import HepgenError, derive_seed, pick_device, retain_freed_memory

__all__ = ["CPU_CHUNK", "sample_events"]

log = logging.getLogger(__name__)

# Events per network call on the CPU: the activations of a 128-wide MLP stay in the L2 cache
# (about twice the throughput of 100k-event calls), and the calls are long enough that two
# workers seldom wait for each other's Python dispatch (1024 events: 10 % slower with two
# workers, though 8 % faster with one); a GPU gets the whole batch in one call.
CPU_CHUNK = 4096

Inverse = Callable[[np.ndarray, np.random.Generator], pd.DataFrame]
Postprocess = Callable[[pd.DataFrame], tuple[pd.DataFrame, dict[str, Any]]]


def sample_events(
    model: EventGenerator,
    n: int,
    *,
    seed: int,
    batch_size: int,
    inverse: Inverse,
    postprocess: Postprocess | None = None,
    device: str = "cpu",
    workers: int = 1,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Draw ``n`` events from ``model`` and return them as an event table.

    The events are drawn in batches of at most ``batch_size``; batch ``i`` has its own torch
    generator and NumPy generator, both seeded from ``(seed, i)``, so the table depends on
    the seed, the batch size and the device, not on how many workers drew it. Each batch is
    drawn in transformed space (on the CPU in network calls of :data:`CPU_CHUNK` events),
    checked for NaN/inf, mapped by ``inverse`` and then by ``postprocess``. On the CPU,
    ``workers`` threads each run whole batches with one torch thread: the small networks
    and the NumPy inverse gain more from that than from splitting every operation.

    Arguments:
        model: a trained generator (moved to ``device``, set to eval mode).
        n: number of events.
        seed: seeds the generators.
        batch_size: events per batch; bounds memory.
        inverse: maps a float32 batch (m, d) and a NumPy generator (for random angles) to a
            table in physical units (GeV, rad), e.g. ``Transform.inverse``.
        postprocess: maps a table to the repaired table and a validity record
            ``{"events", "invalid", "reasons"}`` (e.g. ``Transform.postprocess``); the
            records of the batches are summed.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        workers: CPU threads drawing batches at once (1 on a GPU).

    Returns:
        The table with ``n`` rows, and ``{"events", "seconds", "rate_hz", "device",
        "workers"}`` plus ``"validity"`` when ``postprocess`` is given; ``rate_hz`` counts
        events per second of wall time, inverse and postprocess included.
    """
    for key, value in {"events": n, "batch_size": batch_size, "workers": workers}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"sampling: {key} must be a positive integer, found {value!r}"
            raise HepgenError(msg)
    device = pick_device(device)
    if device == "cpu":
        retain_freed_memory()  # every network call allocates and frees its activations
    model.to(device).eval()
    workers = workers if device == "cpu" else 1
    chunk = CPU_CHUNK if device == "cpu" else batch_size
    sizes = [min(batch_size, n - lo) for lo in range(0, n, batch_size)]

    errstate = np.geterr()  # NumPy's error handling is per thread: give workers the caller's

    def draw(index: int) -> tuple[pd.DataFrame | None, dict[str, Any] | None, int, int]:
        with np.errstate(**errstate):
            return draw_batch(index)

    def draw_batch(index: int) -> tuple[pd.DataFrame | None, dict[str, Any] | None, int, int]:
        generator = torch.Generator(device=device).manual_seed(derive_seed(seed, "batch", index))
        with torch.inference_mode():
            x = _network_draw(model, sizes[index], generator, chunk).float().cpu().numpy()
        bad_latent = int(np.count_nonzero(~np.isfinite(x)))
        if bad_latent:
            return None, None, bad_latent, 0
        table = inverse(x, np.random.default_rng([seed, index]))
        bad_physical = int(np.count_nonzero(~np.isfinite(table.to_numpy(float))))
        validity = None
        if postprocess is not None and not bad_physical:
            table, validity = postprocess(table)
        return table, validity, bad_latent, bad_physical

    tables, records = [], []
    bad_latent = bad_physical = 0
    start = time.perf_counter()
    # OpenMP's thread count is per thread: set it in every worker, not only here
    threads = 1 if workers > 1 else torch.get_num_threads()
    with (
        _torch_threads(threads),
        ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(threads,)) as pool,
    ):
        with tqdm(total=n, desc=f"sample {model.model_type}", unit="ev", file=sys.stderr) as bar:
            for table, validity, latent, physical in _ordered(pool, draw, len(sizes), workers):
                bad_latent, bad_physical = bad_latent + latent, bad_physical + physical
                tables.append(table)
                records.append(validity)
                bar.update(len(table) if table is not None else 0)
    if bad_latent or bad_physical:
        msg = (
            f"model type {model.model_type!r} generated non-finite values: {bad_latent} NaN/inf "
            f"in transformed space and {bad_physical} after the inverse transform (seed {seed})"
        )
        raise HepgenError(msg)
    seconds = time.perf_counter() - start
    table = pd.concat(tables, ignore_index=True)
    log.info(
        "sampled %d events in %.2f s (%.0f Hz) on %s with %d worker(s)",
        n,
        seconds,
        n / seconds,
        device,
        workers,
    )
    info = {"events": n, "seconds": seconds, "rate_hz": n / seconds, "device": device}
    info["workers"] = workers
    if postprocess is not None:
        info["validity"] = merge_validity(records)
    return table, info


def merge_validity(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum per-batch validity records ``{"events", "invalid", "reasons"}`` into one."""
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
    }


def _network_draw(
    model: EventGenerator, n: int, generator: torch.Generator, chunk: int
) -> torch.Tensor:
    """``n`` events (n, d) from ``model`` in calls of at most ``chunk`` events."""
    if n <= chunk:
        return model.sample(n, generator)
    return torch.cat([model.sample(min(chunk, n - lo), generator) for lo in range(0, n, chunk)])


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
