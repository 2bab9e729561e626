"""Resumable training state: what a run writes every N epochs and on SIGTERM/SIGINT."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.files import atomic_path

__all__ = [
    "FORMAT",
    "Progress",
    "StopSignal",
    "TrainingInterrupted",
    "load_state",
    "run_key",
    "save_state",
    "state_path_for",
    "stop_signal",
]

log = logging.getLogger(__name__)

FORMAT = "hepgen-train-state"
"""Value of the ``format`` key of every training state file."""
_VERSION = 1


class TrainingInterrupted(HepgenError):
    """Training stopped on SIGTERM/SIGINT after writing its state; running again resumes."""


@dataclass
class Progress:
    """Loop bookkeeping that a resumed run continues from.

    Attributes:
        epoch: last completed epoch (0 before the first).
        step: optimiser steps (batches) taken in total.
        history: one row per completed epoch.
        best_score: lowest selection score so far.
        best_epoch: the epoch that scored it (0: none yet).
        best_state: the model state of that epoch (tensors).
        cursor: an interrupted epoch: ``{"epoch", "next", "sums", "count"}`` and its order,
            ``"perm"`` (in memory) or ``"seed"`` (streamed: the order is replayed).
    """

    epoch: int = 0
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_score: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, Tensor] | None = None
    cursor: dict[str, Any] | None = None


def state_path_for(model_path: str | os.PathLike) -> Path:
    """The training state file beside a model file: ``<dir>/last.ckpt``."""
    return Path(model_path).with_name("last.ckpt")


def run_key(description: Mapping[str, Any], *arrays: np.ndarray | None) -> str:
    """A hash of what a run depends on: model, options, device and the bytes of its inputs.

    Arguments:
        description: plain values (model type, hyperparameters, loop options, device).
        arrays: training and validation events and weights.

    Returns:
        16 hex digits.
    """
    digest = hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode())
    for array in arrays:
        digest.update(b"none" if array is None else np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _global_rng() -> dict[str, Any]:
    version, internal, gauss = random.getstate()
    keys, pos, has_gauss, cached = np.random.get_state(legacy=True)[1:]  # noqa: NPY002
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_global_rng(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    keys = np_state["keys"].numpy().astype(np.uint32)
    legacy = ("MT19937", keys, np_state["pos"], np_state["has_gauss"], np_state["cached"])
    np.random.set_state(legacy)  # noqa: NPY002 - restores what libraries may draw from
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_state(
    path: str | os.PathLike,
    *,
    key: str,
    model: torch.nn.Module,
    optimizers: Mapping[str, torch.optim.Optimizer],
    schedulers: Mapping[str, Any],
    scaler: torch.amp.GradScaler | None,
    generators: Mapping[str, torch.Generator],
    progress: Progress,
) -> None:
    """Write everything a bit-identical continuation needs to ``path`` atomically.

    Arguments:
        path: the state file (see :func:`state_path_for`).
        key: :func:`run_key` of the run; a run with another key will not resume from it.
        model: the model being trained.
        optimizers: its optimisers by name.
        schedulers: their learning-rate schedulers by name (``None`` for constant).
        scaler: the fp16 gradient scaler, or ``None``.
        generators: the loop's random generators by name.
        progress: epoch, history, best state and an interrupted epoch's cursor.
    """
    payload = {
        "format": FORMAT,
        "version": _VERSION,
        "key": key,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizers": {k: opt.state_dict() for k, opt in optimizers.items()},
        "schedulers": {
            k: (s.state_dict() if s is not None else None) for k, s in schedulers.items()
        },
        "scaler": None if scaler is None else scaler.state_dict(),
        "generators": {k: g.get_state() for k, g in generators.items()},
        "rng": _global_rng(),
        "progress": vars(progress),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    log.info("wrote training state %s (epoch %d, step %d)", path, progress.epoch, progress.step)


def load_state(
    path: str | os.PathLike,
    *,
    key: str,
    model: torch.nn.Module,
    optimizers: Mapping[str, torch.optim.Optimizer],
    schedulers: Mapping[str, Any],
    scaler: torch.amp.GradScaler | None,
    generators: Mapping[str, torch.Generator],
) -> Progress | None:
    """Restore a run from ``path`` when it exists and was written by a run with the same key.

    A missing file returns ``None``; an unreadable file or one of another run is left in
    place with a warning and ``None`` is returned (the run starts fresh and overwrites it).

    Arguments:
        path: the state file.
        key: :func:`run_key` of this run.
        model, optimizers, schedulers, scaler, generators: restored in place.

    Returns:
        The restored progress, or ``None``.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file means: start fresh
        log.warning("training state %s cannot be read (%s); starting fresh", path, err)
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        log.warning("%s is not a %s file; starting fresh", path, FORMAT)
        return None
    if payload.get("version") != _VERSION or payload.get("key") != key:
        log.warning(
            "training state %s belongs to another run (key %s, this run %s: the config, "
            "the data or the device changed); starting fresh",
            path,
            payload.get("key"),
            key,
        )
        return None
    model.load_state_dict(payload["model"])
    for name, opt in optimizers.items():
        opt.load_state_dict(payload["optimizers"][name])
    for name, sched in schedulers.items():
        if sched is not None:
            sched.load_state_dict(payload["schedulers"][name])
    if scaler is not None and payload["scaler"] is not None:
        scaler.load_state_dict(payload["scaler"])
    for name, gen in generators.items():
        gen.set_state(payload["generators"][name])
    _set_global_rng(payload["rng"])
    progress = Progress(**payload["progress"])
    where = f"epoch {progress.epoch}" + (", inside the next epoch" if progress.cursor else "")
    log.info("resuming from %s after %s (step %d)", path, where, progress.step)
    return progress


class StopSignal:
    """Records SIGTERM/SIGINT so that the loop can finish its step and save; see :func:`stop_signal`."""

    def __init__(self) -> None:
        self.received: str | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            raise KeyboardInterrupt(f"second {name}: stopping without saving")
        self.received = name
        log.warning("%s received: finishing the current step, then saving the state", name)


@contextlib.contextmanager
def stop_signal() -> Iterator[StopSignal]:
    """Handle SIGTERM and SIGINT with a :class:`StopSignal` inside the block.

    Outside the main thread (where handlers cannot be installed) the signals keep their
    handlers and the returned object never fires.
    """
    stop = StopSignal()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
