"""Stitched phase-space slices of a simulated dataset: the chunk plan and the event weights.

A rare region, e.g. Drell–Yan with m(ℓℓ) > 150 GeV, holds a tiny fraction of an inclusive
sample. ``simulate.slices`` generates disjoint regions separately, each with its own event
count, and weights every event by its slice's rate, so that the stitched sample describes the
inclusive process with the rare region well populated (the slicing used for e.g. the
ATLAS/CMS Drell–Yan and W+jets samples). A config::

    simulate:
      process: dy_ll
      slices:
        - {mll_min: 50, mll_max: 150, events: 20000, chunks: 2}
        - {mll_min: 150, events: 20000, chunks: 2}

runs four chunks (0, 1 from slice 0; 2, 3 from slice 1). The weight of each event is given by
:func:`stitch_weights`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepgen.errors import HepgenError
from hepgen.simulate.processes import NO_UPPER_CUT, PROCESSES, process_options

__all__ = ["Chunk", "chunk_plan", "phase_space", "stitch_weights"]

RUN_KEYS = frozenset({"process", "events", "chunks", "ecm", "slices"})
"""Keys of ``simulate`` that are not options of the process or the detector."""


@dataclass(frozen=True)
class Chunk:
    """One ``simulate_chunk`` job.

    Arguments:
        index: the chunk number (``results/<ds>/ntuple/chunk<index>.root``), consecutive
            across slices, slice 0's chunks first.
        events: events this chunk generates.
        options: its process and detector options: the dataset's, with its slice's overrides.
        slice: the index of its entry in ``simulate.slices``, ``None`` without slices.
        slice_events: N_slice, the events of all chunks of its slice; ``None`` without slices.
        slice_options: its slice's option overrides (without ``events``/``chunks``).
    """

    index: int
    events: int
    options: dict[str, Any]
    slice: int | None = None
    slice_events: int | None = None
    slice_options: dict[str, Any] = field(default_factory=dict)


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        msg = f"{key}: expected an integer ≥ 1, found {value!r}"
        raise HepgenError(msg)
    return int(value)


def _split(
    first: int,
    events: int,
    chunks: int,
    options: dict[str, Any],
    where: str,
    **slice_info: Any,
) -> list[Chunk]:
    if chunks > events:
        msg = f"{where}: {chunks} chunks for {events} events leave chunks without events"
        raise HepgenError(msg)
    base, extra = divmod(events, chunks)
    return [
        Chunk(first + k, base + (1 if k < extra else 0), options, **slice_info)
        for k in range(chunks)
    ]


def phase_space(process: str, options: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The phase-space interval [min, max) of every ``<x>_min`` option of a process.

    Arguments:
        process: a process name (see ``PROCESSES``).
        options: complete process options (``process_options``'s merged dict).

    Returns:
        ``<x>`` → (lower, upper) in the option's unit (GeV); upper is ``inf`` where there is
        no ``<x>_max`` option or it is ``NO_UPPER_CUT``.
    """
    intervals = {}
    for key in PROCESSES[process].defaults:
        if not key.endswith("_min"):
            continue
        name = key.removesuffix("_min")
        upper = options.get(f"{name}_max", NO_UPPER_CUT)
        intervals[name] = (float(options[key]), np.inf if upper == NO_UPPER_CUT else float(upper))
    return intervals


def _interval(lo: float, hi: float) -> str:
    return f"[{lo:g}, {'∞' if np.isinf(hi) else f'{hi:g}'})"


def _check_disjoint(spaces: list[dict[str, tuple[float, float]]], where: str) -> None:
    """Every two slices must be disjoint in at least one variable."""
    for i, a in enumerate(spaces):
        for j in range(i + 1, len(spaces)):
            b = spaces[j]
            shared = {x: (max(a[x][0], b[x][0]), min(a[x][1], b[x][1])) for x in a}
            if all(lo < hi for lo, hi in shared.values()):
                detail = "; ".join(
                    f"{x} {_interval(*a[x])} and {_interval(*b[x])} share {_interval(*shared[x])}"
                    for x in a
                )
                msg = (
                    f"{where}.slices: slices {i} and {j} overlap ({detail}); slices must be "
                    f"disjoint intervals [min, max) in at least one variable"
                )
                raise HepgenError(msg)


def chunk_plan(sim: Mapping[str, Any], where: str = "simulate") -> list[Chunk]:
    """Check a ``simulate`` config and list its chunks.

    Without ``slices`` the chunks split ``events`` as evenly as possible (the first
    ``events mod chunks`` get one more). With ``slices`` each slice's ``events`` split over
    its own ``chunks`` the same way; the top-level ``events``/``chunks`` may be left out and,
    where given, must equal the sums over the slices.

    Arguments:
        sim: the ``simulate`` mapping of a dataset: ``process``, ``events``, ``chunks``,
            ``ecm``, process/detector options and optionally ``slices`` (a list of process-option
            overrides, each with its own ``events`` and ``chunks``).
        where: the config key of ``sim`` for messages, e.g. ``datasets.dy.simulate``.

    Returns:
        The chunks in order of their index.

    Raises:
        HepgenError: naming the key, for missing or bad counts, top-level counts that differ
            from the slices' sums, a slice key that is not a process option, an invalid option
            value (e.g. ``mll_max`` ≤ ``mll_min``) or two overlapping slices.
    """
    process = sim.get("process")
    if process not in PROCESSES:
        msg = f"{where}.process: unknown process {process!r}; valid processes: {sorted(PROCESSES)}"
        raise HepgenError(msg)
    options = {k: v for k, v in sim.items() if k not in RUN_KEYS}
    proc_keys = set(PROCESSES[process].defaults)
    slices = sim.get("slices")
    if slices is None:
        missing = [k for k in ("events", "chunks") if k not in sim]
        if missing:
            msg = f"{where}: {missing} required (or give `slices`, each with its own events and chunks)"
            raise HepgenError(msg)
        events = _count(sim["events"], f"{where}.events")
        chunks = _count(sim["chunks"], f"{where}.chunks")
        return _split(0, events, chunks, options, where)
    if not isinstance(slices, list) or not slices:
        msg = f"{where}.slices: expected a non-empty list of option mappings, found {slices!r}"
        raise HepgenError(msg)
    plan: list[Chunk] = []
    spaces = []
    for i, entry in enumerate(slices):
        key = f"{where}.slices[{i}]"
        if not isinstance(entry, Mapping):
            msg = f"{key}: expected a mapping of process options with events and chunks, found {entry!r}"
            raise HepgenError(msg)
        missing = [k for k in ("events", "chunks") if k not in entry]
        if missing:
            msg = f"{key}: {missing} required: every slice sets its own events and chunks"
            raise HepgenError(msg)
        overrides = {k: v for k, v in entry.items() if k not in {"events", "chunks"}}
        foreign = sorted(set(overrides) - proc_keys)
        if foreign:
            msg = (
                f"{key}: {foreign} are not options of process {process!r}; a slice overrides "
                f"process options only: {sorted(proc_keys)}"
            )
            raise HepgenError(msg)
        merged = {**options, **overrides}
        try:
            _, full = process_options(process, {k: v for k, v in merged.items() if k in proc_keys})
        except HepgenError as err:
            raise HepgenError(f"{key}: {err}") from None
        spaces.append(phase_space(process, full))
        events = _count(entry["events"], f"{key}.events")
        chunks = _count(entry["chunks"], f"{key}.chunks")
        plan += _split(
            len(plan),
            events,
            chunks,
            merged,
            key,
            slice=i,
            slice_events=events,
            slice_options=overrides,
        )
    _check_disjoint(spaces, where)
    totals = {"events": sum(c.events for c in plan), "chunks": len(plan)}
    for name, total in totals.items():
        if name in sim and sim[name] != total:
            msg = (
                f"{where}.{name}: {sim[name]!r} differs from the sum over {where}.slices "
                f"({total}); leave it out or set it to that sum"
            )
            raise HepgenError(msg)
    return plan


def stitch_weights(
    weights: np.ndarray, sigma_pb: float, slice_events: int
) -> tuple[np.ndarray, float]:
    """Event weights of one chunk of a slice, so that slices add up to the cross section.

    ``w_i = w_i^Pythia · σ_chunk / N_slice`` [pb], where ``w_i^Pythia`` is Pythia's event
    weight (1 for unweighted generation), ``σ_chunk`` the chunk's own ``sigmaGen`` estimate
    [pb] of its slice's cross section and ``N_slice`` the events requested for the whole slice
    (all its chunks). Summed over a slice the weights estimate its cross section
    (Σ_chunks n_k σ_k / N_slice, the event-weighted mean of the chunks' estimates); summed over
    the stitched sample, the cross section of the union of the slices, each region entering
    with its physical rate.

    Arguments:
        weights: Pythia event weights, shape (n,).
        sigma_pb: the chunk's cross section [pb], > 0.
        slice_events: N_slice, ≥ n.

    Returns:
        The weights [pb], shape (n,), and the scale σ_chunk / N_slice [pb].
    """
    if not sigma_pb > 0:
        msg = f"simulate: a slice's chunk needs a positive cross section, found {sigma_pb!r} pb"
        raise HepgenError(msg)
    if slice_events < len(weights):
        msg = f"simulate: slice total of {slice_events} events is below the chunk's {len(weights)}"
        raise HepgenError(msg)
    scale = float(sigma_pb) / int(slice_events)
    return np.asarray(weights, dtype=np.float64) * scale, scale
