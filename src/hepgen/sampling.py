"""Generate events from a trained model in bounded-memory batches and map them to physical units."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from hepgen.models.base import EventGenerator
from hepgen.runtime import HepgenError, pick_device

__all__ = ["sample_events"]

log = logging.getLogger(__name__)


def sample_events(
    model: EventGenerator,
    n: int,
    *,
    seed: int,
    batch_size: int,
    inverse: Callable[[np.ndarray], pd.DataFrame],
    device: str = "cpu",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Draw ``n`` events from ``model`` and return them as an event table.

    Batches of at most ``batch_size`` events are drawn in transformed space from one seeded
    ``torch.Generator``, checked for NaN/inf, and passed through ``inverse``. The same seed,
    batch size and device give the same table.

    Arguments:
        model: a trained generator (moved to ``device``, set to eval mode).
        n: number of events.
        seed: seeds the generator.
        batch_size: events per batch; bounds memory.
        inverse: maps a float32 batch (m, d) to a table in physical units (GeV, rad), e.g.
            ``Transform.inverse``.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.

    Returns:
        The table with ``n`` rows, and ``{"events", "seconds", "rate_hz", "device"}`` where
        ``rate_hz`` counts generated events per second of wall time, ``inverse`` included.
    """
    for key, value in {"events": n, "batch_size": batch_size}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"sampling: {key} must be a positive integer, found {value!r}"
            raise HepgenError(msg)
    device = pick_device(device)
    model.to(device).eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    tables: list[pd.DataFrame] = []
    bad_latent = bad_physical = 0
    start = time.perf_counter()
    with torch.inference_mode():
        with tqdm(total=n, desc=f"sample {model.model_type}", unit="ev", file=sys.stderr) as bar:
            for lo in range(0, n, batch_size):
                size = min(batch_size, n - lo)
                x = model.sample(size, generator).float().cpu().numpy()
                bad = int(np.count_nonzero(~np.isfinite(x)))
                bad_latent += bad
                if bad == 0 and bad_latent == 0:
                    table = inverse(x)
                    bad_physical += int(np.count_nonzero(~np.isfinite(table.to_numpy(float))))
                    tables.append(table)
                bar.update(size)
    if bad_latent or bad_physical:
        msg = (
            f"model type {model.model_type!r} generated non-finite values: {bad_latent} NaN/inf "
            f"in transformed space and {bad_physical} after the inverse transform (seed {seed})"
        )
        raise HepgenError(msg)
    seconds = time.perf_counter() - start
    table = pd.concat(tables, ignore_index=True)
    log.info("sampled %d events in %.2f s (%.0f Hz) on %s", n, seconds, n / seconds, device)
    return table, {"events": n, "seconds": seconds, "rate_hz": n / seconds, "device": device}
