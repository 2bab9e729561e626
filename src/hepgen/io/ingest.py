"""Ingestion: ROOT ntuples (flat or jagged, polar or Cartesian) → fixed-width event table."""

from __future__ import annotations

import difflib
import logging
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import uproot
import vector

from hepgen.io.spec import DatasetSpec, ObjectSpec, expand_files
from hepgen.runtime import HepgenError

__all__ = ["ingest", "required_branches", "write_table"]

log = logging.getLogger(__name__)
vector.register_awkward()

_OUT_FIELDS = ("pt", "eta", "phi", "e")


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


def _object_fields(arrays: ak.Array, obj: ObjectSpec, path: str, start: int) -> dict[str, ak.Array]:
    """The object's fields as jagged arrays of equal structure."""
    if obj.flat:
        return {
            f: ak.from_regular(np.stack([ak.to_numpy(arrays[b]) for b in names], axis=1))
            for f, names in obj.branches.items()
        }
    fields = {f: arrays[b] for f, b in obj.branches.items()}
    counts = {f: ak.to_numpy(ak.num(v, axis=1)) for f, v in fields.items()}
    first, ref = next(iter(counts.items()))
    for f, n in counts.items():
        if not np.array_equal(n, ref):
            entry = start + int(np.flatnonzero(n != ref)[0])
            msg = (
                f"{path!r}: jagged branches {obj.branches[first]!r} and {obj.branches[f]!r} of "
                f"objects '{obj.name}' differ in length at entry {entry}"
            )
            raise HepgenError(msg)
    return fields


def _to_polar(fields: dict[str, ak.Array], kinematics: str) -> dict[str, ak.Array]:
    """Convert any convention to (pt, eta, phi, e) with ``vector``."""
    if kinematics == "ptetaphie":
        return {f: fields[f] for f in _OUT_FIELDS}
    if kinematics == "ptetaphim":
        v = vector.zip(
            {"pt": fields["pt"], "eta": fields["eta"], "phi": fields["phi"], "mass": fields["mass"]}
        )
    else:
        v = vector.zip(
            {"px": fields["px"], "py": fields["py"], "pz": fields["pz"], "E": fields["e"]}
        )
    return {"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.E}


def _object_columns(
    arrays: ak.Array, obj: ObjectSpec, path: str, start: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Selected, pT-ordered, padded columns of one collection and the event mask ``n >= min``."""
    polar = _to_polar(_object_fields(arrays, obj, path, start), obj.kinematics)
    keep = polar["pt"] > obj.min_pt
    if obj.max_abs_eta is not None:
        keep = keep & (abs(polar["eta"]) < obj.max_abs_eta)
    polar = {f: v[keep] for f, v in polar.items()}
    order = ak.argsort(polar["pt"], axis=1, ascending=False, stable=True)
    polar = {f: v[order] for f, v in polar.items()}
    n = ak.to_numpy(ak.num(polar["pt"], axis=1))
    columns: dict[str, np.ndarray] = {}
    padded = {
        f: ak.to_numpy(ak.fill_none(ak.pad_none(v, obj.max, axis=1, clip=True), 0.0)).astype(
            np.float64
        )
        for f, v in polar.items()
    }
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
) -> tuple[pd.DataFrame, dict[str, int]]:
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
    table = pd.DataFrame({k: v[mask] for k, v in columns.items()})
    return table, removed


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


def ingest(
    spec: DatasetSpec, *, step_size: str | int = "50 MB"
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the spec's ROOT files in bounded steps into one event table.

    Arguments:
        spec: the dataset description.
        step_size: bytes (or a string such as ``"50 MB"``) read per ``uproot.iterate`` step;
            peak memory is set by it, not by the file size.

    Returns:
        The event table (float64 columns in GeV and rad) and statistics
        ``{"files", "entries", "events", "removed": {collection: events}}``.
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
    parts, removed = [], dict.fromkeys((o.name for o in spec.objects), 0)
    for path in files:
        for table, chunk_removed in _read_file(path, spec, branches, step_size):
            parts.append(table)
            for name, count in chunk_removed.items():
                removed[name] += count
    table = pd.concat(parts, ignore_index=True)
    for name, count in removed.items():
        if count:
            log.info(
                "removed %d of %d events with too few selected '%s' objects", count, entries, name
            )
    if table.empty:
        msg = f"no event of {entries} in {files} passes the object selection"
        raise HepgenError(msg)
    log.info(
        "ingested %d events (%d columns) from %d files", len(table), table.shape[1], len(files)
    )
    stats = {"files": files, "entries": entries, "events": len(table), "removed": removed}
    return table, stats


def write_table(table: pd.DataFrame, path: str) -> None:
    """Write an event table to Parquet atomically."""
    from hepgen.runtime import atomic_path

    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
