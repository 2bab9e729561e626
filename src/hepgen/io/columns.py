"""One ``uproot`` step (an awkward record array of branches) → float64 event-table columns.

The object collections are handled on their flat object arrays in the branches' own dtype: the
selection and the pT ordering make an index array ``source`` of shape (max, events) that says
which object fills each padded slot, and each output column is then one gather from the flat
branch, converted to float64 only at the end (float32 → float64 is exact, so the table equals
one made from float64 copies of every branch).
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepgen.errors import HepgenError
from hepgen.io.spec import DatasetSpec, ObjectSpec

__all__ = ["table_chunk"]

_OUT_FIELDS = ("pt", "eta", "phi", "e")


def _unpack(values: ak.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """A branch's values as one flat array (no copy) and, for a jagged branch, the offsets
    (events + 1,) of each event's values in it, from 0; ``None`` offsets for other layouts."""
    layout = values.layout
    if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
        return np.asarray(layout.data), None
    if (
        isinstance(layout, ak.contents.ListOffsetArray)
        and isinstance(layout.content, ak.contents.NumpyArray)
        and layout.content.data.ndim == 1
    ):
        offsets = np.asarray(layout.offsets).astype(np.int64, copy=False)
        flat = np.asarray(layout.content.data)[offsets[0] : offsets[-1]]
        return flat, offsets - offsets[0] if offsets[0] else offsets
    return ak.to_numpy(ak.flatten(values, axis=None)), None


def _check_finite(
    flat: dict[str, tuple[np.ndarray, np.ndarray | None]], events: int, path: str, start: int
) -> None:
    for branch, (values, _) in flat.items():
        if values.dtype.kind not in "fc":
            continue  # integers and booleans are always finite
        # A finite sum proves every value finite (NaN and ±inf propagate); only a non-finite
        # sum (or an overflow) needs the element-wise count.
        if np.isfinite(values.sum()):
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            msg = (
                f"{path!r}: branch {branch!r} holds {int(bad.sum())} NaN/inf values "
                f"in entries {start}..{start + events - 1}"
            )
            raise HepgenError(msg)


def _object_fields(
    arrays: ak.Array,
    flat: dict[str, tuple[np.ndarray, np.ndarray | None]],
    obj: ObjectSpec,
    path: str,
    start: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The object's fields as flat arrays (objects of event 0, then of event 1, ...) and the
    offsets (events + 1,) of each event's objects in them.

    Jagged branches keep their dtype; per-slot flat branches are stacked into float64.
    """
    if obj.flat:
        fields = {
            f: np.stack([ak.to_numpy(arrays[b]) for b in names], axis=1).astype(np.float64).ravel()
            for f, names in obj.branches.items()
        }
        slots = len(next(iter(obj.branches.values())))
        return fields, np.arange(len(arrays) + 1) * slots
    offsets = {f: flat[b][1] for f, b in obj.branches.items()}
    if any(o is None for o in offsets.values()):  # a layout other than plain jagged lists
        jagged = {f: arrays[b] for f, b in obj.branches.items()}
        offsets = {}
        for f, v in jagged.items():
            offsets[f] = np.zeros(len(v) + 1, dtype=np.int64)
            np.cumsum(ak.to_numpy(ak.num(v, axis=1)), out=offsets[f][1:])
        fields = {f: ak.to_numpy(ak.flatten(v, axis=1)) for f, v in jagged.items()}
    else:
        fields = {f: flat[b][0] for f, b in obj.branches.items()}
    first, ref = next(iter(offsets.items()))
    for f, o in offsets.items():
        if not np.array_equal(o, ref):
            entry = start + int(np.flatnonzero(np.diff(o) != np.diff(ref))[0])
            msg = (
                f"{path!r}: jagged branches {obj.branches[first]!r} and {obj.branches[f]!r} of "
                f"objects '{obj.name}' differ in length at entry {entry}"
            )
            raise HepgenError(msg)
    return fields, ref


def _to_polar(fields: dict[str, np.ndarray], kinematics: str) -> dict[str, np.ndarray]:
    """Any convention as (pt, eta, phi, e) flat arrays; conversions with ``vector`` in float64."""
    import vector  # its import loads SymPy (0.4 s), which only these conversions need

    if kinematics == "ptetaphie":
        return {f: fields[f] for f in _OUT_FIELDS}
    if kinematics == "ptetaphim":
        names = {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass"}
    else:
        names = {"px": "px", "py": "py", "pz": "pz", "E": "e"}
    v = vector.array(
        {key: fields[name].astype(np.float64, copy=False) for key, name in names.items()}
    )
    return {"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.E}


def _pt_order(pt: np.ndarray, first: np.ndarray, n: np.ndarray) -> np.ndarray | None:
    """Indices that sort the selected objects by event, then by decreasing pT; ``None`` if they
    already are.

    Arguments:
        pt: (selected objects,) pT, events one after the other.
        first, n: (events,) index of each event's first selected object in ``pt``, and their number.

    Most ntuples store objects pT-ordered, which one pass checks. Otherwise one stable argsort
    of ``event - pt / (1.0001 max pt)``: its fractional part orders objects within an event
    (float64 resolves pT differences down to ~1e-10 of the largest pT in the step).
    """
    rising = pt[1:] > pt[:-1]
    starts = first[(n > 0) & (first > 0)]
    rising[starts - 1] = False  # a pair across two events is in order whatever its pT
    if not rising.any():
        return None
    event = np.repeat(np.arange(len(n)), n)
    pt = pt.astype(np.float64, copy=False)
    scale = 1.0001 * float(pt.max())
    return np.argsort(event - pt / scale, kind="stable")


@dataclass
class _Slots:
    """Where each padded slot of one collection comes from: ``source`` (max, events) indexes
    the flat object arrays, with their length (one past the end) for zero padding; ``n``
    (events,) counts the selected objects."""

    source: np.ndarray
    n: np.ndarray

    def select(self, mask: np.ndarray) -> _Slots:
        return _Slots(self.source[:, mask], self.n[mask])


def _slots(polar: dict[str, np.ndarray], offsets: np.ndarray, obj: ObjectSpec) -> _Slots:
    """Select objects, order them by decreasing pT within each event and assign padded slots."""
    pt = polar["pt"]
    keep = pt > np.float64(obj.min_pt)  # a float64 comparison whatever the branch dtype
    if obj.max_abs_eta is not None:
        keep &= np.abs(polar["eta"]) < np.float64(obj.max_abs_eta)
    if keep.all():
        kept, first, n = None, offsets[:-1], np.diff(offsets)
    else:
        kept = np.flatnonzero(keep)
        # Selected objects before each object boundary: (objects + 1,) running count, read at
        # the event offsets; ``first`` is that count at each event's start.
        running = np.zeros(len(pt) + 1, dtype=np.int64)
        np.cumsum(keep, out=running[1:])
        bounds = running[offsets]
        first, n = bounds[:-1], np.diff(bounds)
    order = _pt_order(pt if kept is None else pt[kept], first, n)
    if order is not None:
        kept = order if kept is None else kept[order]
    last = len(pt) if kept is None else len(kept)
    source = np.empty((obj.max, len(n)), dtype=np.int64)
    for k in range(obj.max):
        position = np.minimum(first + k, max(last - 1, 0))
        if kept is not None and last:
            position = kept.take(position)
        np.copyto(source[k], np.where(n > k, position, len(pt)))
    return _Slots(source, n)


def _gather(values: np.ndarray, slots: _Slots) -> np.ndarray:
    """(max, events) float64 values of the slots, zero for empty slots (index ``len(values)``)."""
    padded = np.empty(len(values) + 1, dtype=values.dtype)
    padded[:-1] = values
    padded[-1] = 0.0
    return padded.take(slots.source).astype(np.float64, copy=False)


def _met_columns(arrays: ak.Array, spec: DatasetSpec) -> dict[str, np.ndarray]:
    met = spec.met
    if met.polar:
        pt, phi = ak.to_numpy(arrays[met.pt]), ak.to_numpy(arrays[met.phi])
    else:
        px, py = ak.to_numpy(arrays[met.px]), ak.to_numpy(arrays[met.py])
        pt, phi = np.hypot(px, py), np.arctan2(py, px)
    return {"met": pt, "met_phi": phi}


def table_chunk(
    arrays: ak.Array, spec: DatasetSpec, branches: list[str], path: str, start: int
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Columns of one step and the events removed per collection.

    Arguments:
        arrays: the step's branches (events,) as read by ``uproot``.
        spec: the dataset description; ``branches`` its :func:`required_branches`.
        path, start: the file and the step's first entry, for error messages.

    Returns:
        The columns, float64 (selected events,) each, in table order (per collection
        ``<name><k>_<field>`` for each slot, kinematics then per-object fields, then ``n_<name>``; ``met, met_phi``; scalars;
        ``weight``), and ``{collection: events removed by its minimum multiplicity}``.
    """
    flat = {b: _unpack(arrays[b]) for b in branches}
    _check_finite(flat, len(arrays), path, start)
    mask = np.ones(len(arrays), dtype=bool)
    removed: dict[str, int] = {}
    collections = []
    for obj in spec.objects:
        fields, offsets = _object_fields(arrays, flat, obj, path, start)
        polar = _to_polar(fields, obj.kinematics) | {f: fields[f] for f in obj.fields}
        slots = _slots(polar, offsets, obj)
        enough = slots.n >= obj.min
        removed[obj.name] = int((mask & ~enough).sum())
        mask &= enough
        collections.append((obj, polar, slots))
    per_event: dict[str, np.ndarray] = {}
    if spec.met is not None:
        per_event.update(_met_columns(arrays, spec))
    for name in spec.scalars:
        per_event[name] = ak.to_numpy(arrays[name])
    if spec.weight:
        per_event["weight"] = ak.to_numpy(arrays[spec.weight])
    everything = mask.all()
    columns: dict[str, np.ndarray] = {}
    for obj, polar, slots in collections:
        if not everything:
            slots = slots.select(mask)
        padded = {f: _gather(polar[f], slots) for f in (*_OUT_FIELDS, *obj.fields)}
        for k in range(obj.max):
            for f in padded:
                columns[f"{obj.name}{k + 1}_{f}"] = padded[f][k]
        if obj.multiplicity:
            columns[f"n_{obj.name}"] = slots.n.astype(np.float64)
    for name, values in per_event.items():
        columns[name] = (values if everything else values[mask]).astype(np.float64)
    return columns, removed
