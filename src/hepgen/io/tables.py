"""Ingestion: ROOT ntuples (flat or jagged, polar or Cartesian) → fixed-width event tables."""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import uproot
import vector

from hepgen.io.spec import DatasetSpec, ObjectSpec, expand_files
from hepgen.runtime import HepgenError, atomic_path

__all__ = [
    "PARQUET_OPTIONS",
    "STEP_SIZE",
    "ingest",
    "ingest_to_parquet",
    "iter_columns",
    "required_branches",
    "write_table",
]

log = logging.getLogger(__name__)
vector.register_awkward()

_OUT_FIELDS = ("pt", "eta", "phi", "e")

#: Bytes read per ``uproot.iterate`` step: bounds peak memory (a few times this) whatever the file size.
STEP_SIZE = "16 MB"

#: Parquet writer options for event tables: dictionary encoding only costs time on float columns.
PARQUET_OPTIONS = {"use_dictionary": False, "compression": "snappy"}


def required_branches(spec: DatasetSpec) -> list[str]:
    """Every branch the spec reads, in a stable order."""
    names: list[str] = []
    for obj in spec.objects:
        for branch in obj.branches.values():
            names.extend(branch if isinstance(branch, list) else [branch])
    if spec.met is not None:
        names.extend(b for b in (spec.met.pt, spec.met.phi, spec.met.px, spec.met.py) if b)
    if spec.weight:
        names.append(spec.weight)
    names.extend(spec.scalars)
    return list(dict.fromkeys(names))


def _check_file(path: str, tree: str, branches: list[str]) -> int:
    """Open ``path``, check the tree and branches exist; return the number of entries."""
    try:
        file = uproot.open(path)
    except Exception as err:  # uproot raises many types for corrupt files
        msg = f"cannot read {path!r} as a ROOT file: {type(err).__name__}: {err}"
        raise HepgenError(msg) from err
    with file:
        try:
            trees = [k.split(";")[0] for k in file.keys(recursive=True)]
        except Exception as err:
            msg = f"cannot read the directory of ROOT file {path!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
        if tree not in trees:
            close = difflib.get_close_matches(tree, trees, n=3, cutoff=0.0)
            msg = f"{path!r}: no tree {tree!r}; the file holds {close or 'no objects'}"
            raise HepgenError(msg)
        try:
            ttree = file[tree]
            available = set(ttree.keys())
            entries = int(ttree.num_entries)
        except Exception as err:
            msg = f"{path!r}: cannot read tree {tree!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
    for branch in branches:
        if branch not in available:
            close = difflib.get_close_matches(branch, sorted(available), n=3, cutoff=0.5)
            hint = f"; closest: {close}" if close else ""
            msg = f"{path!r}, tree {tree!r}: no branch {branch!r}{hint}"
            raise HepgenError(msg)
    return entries


def _check_finite(arrays: ak.Array, branches: list[str], path: str, start: int) -> None:
    for branch in branches:
        values = arrays[branch]
        flat = ak.to_numpy(ak.flatten(values, axis=None)).astype(np.float64, copy=False)
        bad = ~np.isfinite(flat)
        if bad.any():
            msg = (
                f"{path!r}: branch {branch!r} holds {int(bad.sum())} NaN/inf values "
                f"in entries {start}..{start + len(values) - 1}"
            )
            raise HepgenError(msg)


def _object_fields(
    arrays: ak.Array, obj: ObjectSpec, path: str, start: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The object's fields as flat float64 arrays and the objects per event."""
    if obj.flat:
        fields = {
            f: np.stack([ak.to_numpy(arrays[b]) for b in names], axis=1).astype(np.float64).ravel()
            for f, names in obj.branches.items()
        }
        return fields, np.full(len(arrays), len(next(iter(obj.branches.values()))))
    jagged = {f: arrays[b] for f, b in obj.branches.items()}
    counts = {f: ak.to_numpy(ak.num(v, axis=1)) for f, v in jagged.items()}
    first, ref = next(iter(counts.items()))
    for f, n in counts.items():
        if not np.array_equal(n, ref):
            entry = start + int(np.flatnonzero(n != ref)[0])
            msg = (
                f"{path!r}: jagged branches {obj.branches[first]!r} and {obj.branches[f]!r} of "
                f"objects '{obj.name}' differ in length at entry {entry}"
            )
            raise HepgenError(msg)
    fields = {f: ak.to_numpy(ak.flatten(v, axis=1)).astype(np.float64) for f, v in jagged.items()}
    return fields, ref


def _to_polar(fields: dict[str, np.ndarray], kinematics: str) -> dict[str, np.ndarray]:
    """Convert any convention to (pt, eta, phi, e) with ``vector`` (flat NumPy arrays)."""
    if kinematics == "ptetaphie":
        return {f: fields[f] for f in _OUT_FIELDS}
    if kinematics == "ptetaphim":
        names = {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass"}
    else:
        names = {"px": "px", "py": "py", "pz": "pz", "E": "e"}
    v = vector.array({key: fields[name] for key, name in names.items()})
    return {"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.E}


def _pt_order(event: np.ndarray, pt: np.ndarray) -> np.ndarray | None:
    """Indices that sort flat objects by event, then by decreasing pT; ``None`` if already so.

    Most ntuples store objects pT-ordered, which one pass checks. Otherwise one stable argsort
    of ``event - pt / (1.0001 max pt)``: its fractional part orders objects within an event
    (float64 resolves pT differences down to ~1e-10 of the largest pT in the step).
    """
    same_event = event[1:] == event[:-1]
    if not np.any(same_event & (pt[1:] > pt[:-1])):
        return None
    scale = 1.0001 * float(pt.max())
    return np.argsort(event - pt / scale, kind="stable")


def _object_columns(
    arrays: ak.Array, obj: ObjectSpec, path: str, start: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Selected, pT-ordered, padded columns of one collection and the event mask ``n >= min``.

    Works on the flat object arrays: a sort by (event, −pT) where needed, then a scatter of
    the first ``max`` objects of each event into zero-filled (events, max) arrays.
    """
    fields, counts = _object_fields(arrays, obj, path, start)
    polar = _to_polar(fields, obj.kinematics)
    event = np.repeat(np.arange(len(counts)), counts)
    keep = polar["pt"] > obj.min_pt
    if obj.max_abs_eta is not None:
        keep &= np.abs(polar["eta"]) < obj.max_abs_eta
    event = event[keep]
    polar = {f: v[keep] for f, v in polar.items()}
    order = _pt_order(event, polar["pt"])
    if order is not None:
        event = event[order]
        polar = {f: v[order] for f, v in polar.items()}
    n = np.bincount(event, minlength=len(counts))
    slot = np.arange(len(event)) - np.repeat(np.cumsum(n) - n, n)
    shown = slot < obj.max
    columns: dict[str, np.ndarray] = {}
    padded = {}
    for f, values in polar.items():
        padded[f] = np.zeros((len(counts), obj.max))
        padded[f][event[shown], slot[shown]] = values[shown]
    for k in range(obj.max):
        for f in _OUT_FIELDS:
            columns[f"{obj.name}{k + 1}_{f}"] = padded[f][:, k]
    if obj.multiplicity:
        columns[f"n_{obj.name}"] = n.astype(np.float64)
    return columns, n >= obj.min


def _met_columns(arrays: ak.Array, spec: DatasetSpec) -> dict[str, np.ndarray]:
    met = spec.met
    if met.polar:
        pt, phi = ak.to_numpy(arrays[met.pt]), ak.to_numpy(arrays[met.phi])
    else:
        px, py = ak.to_numpy(arrays[met.px]), ak.to_numpy(arrays[met.py])
        pt, phi = np.hypot(px, py), np.arctan2(py, px)
    return {"met": pt.astype(np.float64), "met_phi": phi.astype(np.float64)}


def _table_chunk(
    arrays: ak.Array, spec: DatasetSpec, branches: list[str], path: str, start: int
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Columns (float64, one entry per selected event) of one step, and events removed per collection."""
    _check_finite(arrays, branches, path, start)
    columns: dict[str, np.ndarray] = {}
    mask = np.ones(len(arrays), dtype=bool)
    removed: dict[str, int] = {}
    for obj in spec.objects:
        obj_columns, enough = _object_columns(arrays, obj, path, start)
        removed[obj.name] = int((mask & ~enough).sum())
        mask &= enough
        columns.update(obj_columns)
    if spec.met is not None:
        columns.update(_met_columns(arrays, spec))
    for name in spec.scalars:
        columns[name] = ak.to_numpy(arrays[name]).astype(np.float64)
    if spec.weight:
        columns["weight"] = ak.to_numpy(arrays[spec.weight]).astype(np.float64)
    if not mask.all():
        columns = {k: v[mask] for k, v in columns.items()}
    return columns, removed


def _read_file(path: str, spec: DatasetSpec, branches: list[str], step_size: str | int):
    """Yield (table, removed) per ``uproot.iterate`` step of one file; read errors name the file."""
    steps = uproot.iterate({path: spec.tree}, branches, step_size=step_size, report=True)
    while True:
        try:
            arrays, report = next(steps)
        except StopIteration:
            return
        except Exception as err:  # a truncated or corrupt basket surfaces only when read
            msg = f"{path!r}: cannot read tree {spec.tree!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
        yield _table_chunk(arrays, spec, branches, path, report.tree_entry_start)


def iter_columns(
    spec: DatasetSpec, *, step_size: str | int = STEP_SIZE, stats: dict[str, Any] | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the event table's columns (float64 arrays) step by step.

    Arguments:
        spec: the dataset description.
        step_size: bytes (a string such as ``"50 MB"``) or entries (an int) per ``uproot.iterate`` step.
        stats: filled, once the iteration ends, with ``{"files", "entries", "events", "removed"}``.

    Raises:
        HepgenError: unreadable files, missing trees or branches, NaN/inf values, jagged branches
            of mismatched lengths, empty trees, or no event passing the selection.
    """
    files = expand_files(spec.files)
    branches = required_branches(spec)
    if not branches:
        msg = "the dataset reads no branch: give objects, met, weight or scalars"
        raise HepgenError(msg)
    entries = sum(_check_file(path, spec.tree, branches) for path in files)
    if entries == 0:
        msg = f"tree {spec.tree!r} is empty in every input file: {files}"
        raise HepgenError(msg)
    events, removed = 0, dict.fromkeys((o.name for o in spec.objects), 0)
    for path in files:
        for columns, chunk_removed in _read_file(path, spec, branches, step_size):
            events += len(next(iter(columns.values())))
            for name, count in chunk_removed.items():
                removed[name] += count
            yield columns
    for name, count in removed.items():
        if count:
            log.info(
                "removed %d of %d events with too few selected '%s' objects", count, entries, name
            )
    if events == 0:
        msg = f"no event of {entries} in {files} passes the object selection"
        raise HepgenError(msg)
    log.info("ingested %d of %d events from %d files", events, entries, len(files))
    if stats is not None:
        stats.update(files=files, entries=entries, events=events, removed=removed)


def ingest(
    spec: DatasetSpec, *, step_size: str | int = STEP_SIZE
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the spec's ROOT files into one in-memory event table.

    Returns:
        The event table (float64 columns in GeV and rad) and the statistics of :func:`iter_columns`.
    """
    stats: dict[str, Any] = {}
    steps = iter_columns(spec, step_size=step_size, stats=stats)
    table = pd.concat([pd.DataFrame(columns) for columns in steps], ignore_index=True)
    return table, stats


def ingest_to_parquet(
    spec: DatasetSpec, path: str | os.PathLike, *, step_size: str | int = STEP_SIZE
) -> dict[str, Any]:
    """Stream the event table into a Parquet file (atomically), one row group per step.

    Each step is written by a background thread while the next one is read and converted
    (zlib and Parquet both release the GIL), so writing costs little extra wall time; at
    most two steps are held in memory.

    Returns:
        The statistics of :func:`iter_columns` plus ``"columns"``.
    """
    stats: dict[str, Any] = {}
    writer, pending = None, None
    with atomic_path(path) as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        try:
            for columns in iter_columns(spec, step_size=step_size, stats=stats):
                chunk = pa.table(columns)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, chunk.schema, **PARQUET_OPTIONS)
                    stats["columns"] = list(columns)
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_table, chunk)
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.exception()  # wait for the writer before closing, whatever happened
            if writer is not None:
                writer.close()
    return stats


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write an event table to Parquet atomically."""
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False, **PARQUET_OPTIONS)
