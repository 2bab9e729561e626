"""Event tables → jagged collections: awkward arrays with ``vector`` behaviour, and ROOT files
in a dataset's own input schema (the inverse of ingestion).

An event table holds each collection as zero-padded slots ``<name><k>_{pt,eta,phi,e}``
(GeV, rad) plus per-object fields; a slot with pT = 0 is an absent object. Here absent objects
are dropped, so every collection becomes a jagged list of the present objects of each event.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import uproot

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.io.spec import DatasetSpec, ObjectSpec

__all__ = ["RootWriter", "root_branches", "to_awkward", "write_root"]

_POLAR = ("pt", "eta", "phi", "e")


def _slots(table: pd.DataFrame, obj: ObjectSpec, field: str) -> np.ndarray:
    """(events, max) float64 values of one field of a collection, zero for absent slots."""
    columns = [f"{obj.name}{k}_{field}" for k in range(1, obj.max + 1)]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        msg = f"the event table lacks columns {missing} of objects '{obj.name}'"
        raise HepgenError(msg)
    return table[columns].to_numpy(np.float64)


def _convention(polar: Mapping[str, np.ndarray], kinematics: str) -> dict[str, np.ndarray]:
    """(pt, eta, phi, e) arrays → the fields of ``kinematics`` (``ptetaphim`` mass ≥ 0)."""
    pt, eta, phi, e = (polar[f] for f in _POLAR)
    if kinematics == "ptetaphie":
        return {"pt": pt, "eta": eta, "phi": phi, "e": e}
    pz = pt * np.sinh(eta)
    if kinematics == "ptetaphim":
        m2 = (e - np.hypot(pt, pz)) * (e + np.hypot(pt, pz))
        return {"pt": pt, "eta": eta, "phi": phi, "mass": np.sqrt(np.maximum(m2, 0.0))}
    return {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pz, "e": e}


def _collection(table: pd.DataFrame, obj: ObjectSpec) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A collection's present objects: flat (objects,) arrays of (pt, eta, phi, e, fields),
    event by event in slot order, and the (events,) int32 count of present objects."""
    pt = _slots(table, obj, "pt")
    present = pt > 0
    values = {f: _slots(table, obj, f)[present] for f in (*_POLAR, *obj.fields)}
    return values, present.sum(axis=1).astype(np.int32)


def to_awkward(table: pd.DataFrame, spec: DatasetSpec) -> ak.Array:
    """An event table as an awkward array of events with jagged collections.

    Each collection of ``spec`` becomes a field of records named ``Momentum4D`` (``vector``
    behaviour): ``pt`` [GeV], ``eta``, ``phi`` [rad], ``energy`` [GeV] and the per-object
    fields (``charge`` …), absent objects dropped (``events.jet.pt`` is ``var * float64``).
    Every other table column (``met``, ``met_phi``, ``n_jet``, scalars, ``weight``) is a flat
    float64 field of the same name.

    Arguments:
        table: n events in physical units (GeV, rad).
        spec: the dataset description whose collections the table holds.

    Returns:
        An array of n records.
    """
    import vector  # its import loads SymPy (0.4 s); only these records need its behaviour

    vector.register_awkward()
    fields: dict[str, Any] = {}
    used: set[str] = set()
    for obj in spec.objects:
        values, counts = _collection(table, obj)
        record = {"pt": values["pt"], "eta": values["eta"], "phi": values["phi"]}
        record["energy"] = values["e"]
        record |= {f: values[f] for f in obj.fields}
        objects = ak.zip(record, with_name="Momentum4D")
        fields[obj.name] = ak.unflatten(objects, counts)
        used.update(
            f"{obj.name}{k}_{f}" for k in range(1, obj.max + 1) for f in (*_POLAR, *obj.fields)
        )
    for column in table.columns:
        if column not in used:
            fields[column] = table[column].to_numpy(np.float64)
    return ak.zip(fields, depth_limit=1)


def root_branches(
    table: pd.DataFrame,
    spec: DatasetSpec,
    weight: np.ndarray | float = 1.0,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """The branches of ``spec.tree`` that ingestion with ``spec`` reads back as ``table``.

    Jagged collections: one float32 branch per field under its configured name, in the
    collection's kinematics convention, absent objects dropped; when every branch of a
    collection is ``<stem>_<field>`` for one stem (a ``prefix`` such as ``lep_``, or NanoAOD's
    ``Jet_pt``) they share the counter ``n<stem>``, otherwise each has its own ``n<branch>``.
    Per-slot flat branches cannot express absence: absent slots hold 0 and a count branch
    ``n_<name>`` gives the number of present objects. MET as the spec reads it (polar or
    Cartesian), scalars under their names, float32.

    Arguments:
        table: n events in physical units (GeV, rad); an optional ``weight`` column
            multiplies ``weight``.
        spec: the dataset description.
        weight: per-event weight, (n,) or one number, written to ``spec.weight`` (default
            ``weight``).
        extra: further columns of ``table`` written as flat branches under their names (a
            conditional sample's ``condition_<name>`` columns and condition-row index).

    Returns:
        Branch name → NumPy array (n,) or awkward array (n, var), in a dict that
        ``uproot``'s ``mktree``/``extend`` accept (collections sharing a counter are nested
        under their stem).
    """
    branches: dict[str, Any] = {}

    def add(name: str, value: Any) -> None:
        if name in branches:
            msg = f"tree {spec.tree!r}: branch {name!r} would be written twice"
            raise HepgenError(msg)
        branches[name] = value

    for obj in spec.objects:
        values, counts = _collection(table, obj)
        converted = _convention(values, obj.kinematics) | {f: values[f] for f in obj.fields}
        if obj.flat:
            pt = _slots(table, obj, "pt")
            present = pt > 0
            slotted = _convention({f: _slots(table, obj, f) for f in _POLAR}, obj.kinematics)
            slotted |= {f: _slots(table, obj, f) for f in obj.fields}
            for field, names in obj.branches.items():
                column = np.where(present, slotted[field], 0.0).astype(np.float32)
                for k, name in enumerate(names):
                    add(name, column[:, k])
            add(f"n_{obj.name}", counts)
            continue
        jagged = {
            obj.branches[f]: ak.unflatten(v.astype(np.float32), counts)
            for f, v in converted.items()
        }
        stems = {str(b).rpartition("_")[0] for b in jagged}
        stem = next(iter(stems))
        if len(stems) == 1 and stem and len(jagged) > 1:
            add(stem, ak.zip({b[len(stem) + 1 :]: v for b, v in jagged.items()}))
        else:
            for name, value in jagged.items():
                add(name, value)
    if spec.met is not None:
        met = table["met"].to_numpy(np.float64)
        phi = table["met_phi"].to_numpy(np.float64)
        if spec.met.polar:
            add(spec.met.pt, met.astype(np.float32))
            add(spec.met.phi, phi.astype(np.float32))
        else:
            add(spec.met.px, (met * np.cos(phi)).astype(np.float32))
            add(spec.met.py, (met * np.sin(phi)).astype(np.float32))
    for name in spec.scalars:
        add(name, table[name].to_numpy(np.float32))
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), (len(table),))
    if "weight" in table.columns:
        w = w * table["weight"].to_numpy(np.float64)
    add(spec.weight or "weight", w.astype(np.float32))
    for name in extra:
        if name in branches:
            msg = f"tree {spec.tree!r}: the extra column {name!r} clashes with a branch of the dataset's schema"
            raise HepgenError(msg)
        add(name, table[name].to_numpy())
    return branches


class RootWriter:
    """Write event tables batch by batch into one TTree of a new ROOT file, atomically.

    Use as a context manager; :meth:`write` appends a batch (the first creates the tree);
    the file appears under ``path`` only when the block ends without an error.

    Arguments:
        path: the output ``.root`` file.
        spec: the dataset description whose schema the tree takes (:func:`root_branches`).
        extra: further columns written as flat branches (:func:`root_branches`).
    """

    def __init__(
        self, path: str | os.PathLike, spec: DatasetSpec, extra: Sequence[str] = ()
    ) -> None:
        self.path, self.spec, self.extra = path, spec, list(extra)
        self.events = 0

    def __enter__(self) -> RootWriter:
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        self._file = uproot.recreate(tmp)
        self._tree = None
        return self

    def write(self, table: pd.DataFrame, weight: np.ndarray | float = 1.0) -> None:
        """Append the events of ``table`` (``weight`` as in :func:`root_branches`)."""
        branches = root_branches(table, self.spec, weight, self.extra)
        if self._tree is None:
            self._tree = self._file.mktree(self.spec.tree, branches)
        else:
            self._tree.extend(branches)
        self.events += len(table)

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        self._file.close()
        if kind is None and self._tree is None:
            err = HepgenError(f"{os.fspath(self.path)!r}: no events to write")
            self._atomic.__exit__(HepgenError, err, None)  # removes the temporary file
            raise err
        self._atomic.__exit__(kind, value, traceback)


def write_root(
    path: str | os.PathLike,
    tables: pd.DataFrame | Iterable[pd.DataFrame],
    spec: DatasetSpec,
    weight: float = 1.0,
    extra: Sequence[str] = (),
) -> int:
    """Write one table, or batches of tables, to ``path`` in the schema of ``spec``, with the
    ``extra`` columns as flat branches.

    Returns:
        The number of events written.
    """
    batches = [tables] if isinstance(tables, pd.DataFrame) else tables
    with RootWriter(path, spec, extra) as writer:
        for table in batches:
            writer.write(table, weight)
    return writer.events
