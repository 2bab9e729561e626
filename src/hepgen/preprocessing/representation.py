"""The event representation: physical event table ↔ the coordinates a generator learns.

Two named representations:

- ``ptetaphie``: every object as the (pT, η, φ, E) columns of the event table, MET as
  (magnitude, φ). Each object's mass emerges from four noisy numbers.
- ``ptetaphim`` (default): every object as (pT, η, φ, m). A collection with a fixed ``mass``
  (leptons, photons) learns no mass column and its E follows from |p| and the mass, so E ≥ |p|
  by construction; other collections (jets) learn their mass as ``<object>_m``. A *system* of
  two objects (``{name: ll, objects: [mu1, mu2]}``) is learned as its mass, pT, rapidity and
  azimuth (``ll_m, ll_pt, ll_y, ll_phi``) and the decay angles of its first daughter in the
  Collins–Soper frame (``ll_costheta, ll_phistar``; :mod:`hepgen.preprocessing.kinematics`);
  where the daughters' collection has a selection (``min_pt``, ``max_abs_eta``), ``ll_costheta``
  holds the log-odds of cos θ* within the range the selection allows
  (:mod:`hepgen.preprocessing.support`), so generated daughters pass it by construction;
  both daughters are rebuilt exactly and put back into their slots in pT order. MET relative to
  a reference (a system or an object) is learned as the components parallel and perpendicular
  to the reference's azimuth (``met_para, met_perp``).

Per-object fields beyond kinematics (``mu1_charge`` …) follow their object; a system's
daughters carry theirs as ``<system><1|2>_<field>`` and their learned masses as
``<system><1|2>_m``. Daughter 1 is the one of lower ``charge`` when the system is ordered by
charge (the negative lepton of a Z, as in the Collins–Soper angle), else the pT-leading one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.preprocessing.kinematics import (
    from_cartesian,
    met_from_relative,
    met_relative,
    namespace,
    to_cartesian,
    two_body_from_frame,
    two_body_to_frame,
)
from hepgen.preprocessing.padding import Padding
from hepgen.preprocessing.support import Cuts, from_log_odds, to_log_odds

__all__ = ["KINDS", "Collection", "Representation", "System"]

log = logging.getLogger(__name__)

#: The named representations.
KINDS = ("ptetaphim", "ptetaphie")
#: Coordinates of a system, in feature order.
SYSTEM_COORDINATES = ("m", "pt", "y", "phi", "costheta", "phistar")
_ORDERS = ("charge", "pt")
#: How a system's cos θ* is learned: within the range its daughters' selection allows, or as is.
COSTHETA = ("support", "plain")
#: The largest fraction of training events whose cos θ* the support map may miss (an allowed
#: sliver narrower than its grid) before the selection is taken as not the data's own.
_MISSED_MAX = 1e-3


@dataclass(frozen=True)
class Collection:
    """One zero-padded object collection of the event table.

    Arguments:
        name: column prefix (``mu`` for ``mu1_pt`` …).
        slots: objects per event (the config's ``max``).
        min_count: the fewest objects an event holds (the config's ``min``).
        mass: fixed mass [GeV], or ``None`` to learn it.
        fields: per-object fields beyond kinematics (``charge`` for ``mu1_charge``).
        min_pt: the selection's pT threshold [GeV] (objects have pT > min_pt).
        max_abs_eta: the selection's |η| bound, ``None`` for none.
    """

    name: str
    slots: int
    min_count: int = 0
    mass: float | None = None
    fields: tuple[str, ...] = ()
    min_pt: float = 0.0
    max_abs_eta: float | None = None

    def objects(self) -> list[str]:
        return [f"{self.name}{k}" for k in range(1, self.slots + 1)]


@dataclass(frozen=True)
class System:
    """Two objects learned as one two-body system.

    Arguments:
        name: column prefix of the system's coordinates (``ll`` for ``ll_m`` …).
        objects: the two daughter objects, e.g. ``("mu1", "mu2")``; both always present.
        order: ``"charge"`` (daughter 1 has the lower charge) or ``"pt"`` (the pT-leading one).
        costheta: ``"support"`` learns cos θ* as its log-odds within the range the daughters'
            selection allows (where their collection has one), ``"plain"`` as it is.
    """

    name: str
    objects: tuple[str, str]
    order: str = "pt"
    costheta: str = "support"


@dataclass
class Representation:
    """Physical event table ↔ learned coordinates (a pandas table each).

    Arguments:
        kind: one of :data:`KINDS`.
        collections: the event table's object collections.
        systems: two-body systems (``ptetaphim`` only).
        met_reference: a system or object whose azimuth MET is measured from (``ptetaphim``
            only), or ``None`` to keep MET as (magnitude, φ).
        energy_change: measured by :meth:`fit`: how much fixing the masses changes the
            energy of the training objects (mean and maximum relative change, objects changed).
        padding: the fill of absent optional objects (:mod:`hepgen.preprocessing.padding`),
            measured by :meth:`fit`; its ``seed`` seeds the fill.
    """

    kind: str = "ptetaphim"
    collections: list[Collection] = field(default_factory=list)
    systems: list[System] = field(default_factory=list)
    met_reference: str | None = None
    energy_change: dict[str, float] = field(default_factory=dict)
    padding: Padding = field(default_factory=Padding)

    def __post_init__(self) -> None:
        self.collections = [
            c if isinstance(c, Collection) else _collection(c) for c in self.collections
        ]
        self.systems = [s if isinstance(s, System) else _system(s) for s in self.systems]
        if isinstance(self.padding, dict):
            self.padding = Padding(**self.padding)
        self.check()

    # --- configuration ---------------------------------------------------------------------
    def check(self) -> None:
        """Refuse an inconsistent representation, naming the config key."""
        if self.kind not in KINDS:
            msg = f"preprocess.representation must be one of {list(KINDS)}, found {self.kind!r}"
            raise HepgenError(msg)
        slots = {o: (c, k) for c in self.collections for k, o in enumerate(c.objects(), 1)}
        for c in self.collections:
            if c.mass is not None and not c.mass >= 0:
                msg = f"objects '{c.name}': mass must be >= 0 GeV, found {c.mass}"
                raise HepgenError(msg)
        used: dict[str, str] = {}
        for s in self.systems:
            if len(s.objects) != 2 or s.objects[0] == s.objects[1]:
                msg = f"systems '{s.name}': objects must name two different objects, found {list(s.objects)}"
                raise HepgenError(msg)
            if s.order not in _ORDERS:
                msg = f"systems '{s.name}': order must be one of {list(_ORDERS)}, found {s.order!r}"
                raise HepgenError(msg)
            if s.costheta not in COSTHETA:
                msg = f"systems '{s.name}': costheta must be one of {list(COSTHETA)}, found {s.costheta!r}"
                raise HepgenError(msg)
            for obj in s.objects:
                if obj not in slots:
                    msg = f"systems '{s.name}': object {obj!r} does not exist; objects: {sorted(slots)}"
                    raise HepgenError(msg)
                coll, k = slots[obj]
                if coll.min_count < k:
                    msg = (
                        f"systems '{s.name}': object {obj!r} can be absent (objects '{coll.name}' "
                        f"min is {coll.min_count}); a system needs min >= {k}"
                    )
                    raise HepgenError(msg)
                if coll is not slots[s.objects[0]][0]:
                    msg = f"systems '{s.name}': objects {list(s.objects)} must come from one collection"
                    raise HepgenError(msg)
                if obj in used:
                    msg = f"systems '{s.name}': object {obj!r} is already in system '{used[obj]}'"
                    raise HepgenError(msg)
                used[obj] = s.name
            if s.order == "charge" and not all("charge" in slots[o][0].fields for o in s.objects):
                msg = f"systems '{s.name}': order 'charge' needs a 'charge' field on its objects"
                raise HepgenError(msg)
        references = {s.name for s in self.systems} | set(slots)
        if self.met_reference is not None and self.met_reference not in references:
            msg = (
                f"met.reference {self.met_reference!r} is neither a system nor an object; "
                f"choose one of {sorted(references)}"
            )
            raise HepgenError(msg)
        if self.kind == "ptetaphie":
            self.systems, self.met_reference = [], None

    def coordinates(self, columns: list[str]) -> list[str]:
        """The learned columns for an event table with ``columns`` (``weight`` excluded)."""
        out: list[str] = []
        for s in self.systems:
            out += [f"{s.name}_{c}" for c in SYSTEM_COORDINATES]
            for i, obj in enumerate(s.objects, 1):
                coll = self._collection_of(obj)
                out += [f"{s.name}{i}_m"] if coll.mass is None else []
                out += [f"{s.name}{i}_{f}" for f in coll.fields]
        in_system = self._in_system()
        for c in self.collections:
            for obj in c.objects():
                if obj not in in_system:
                    out += [f"{obj}_{f}" for f in self._object_coordinates(c)]
            if c.slots > c.min_count and f"n_{c.name}" not in columns:
                out.append(f"n_{c.name}")
        physical = set(self._physical(columns))
        for column in columns:
            if column in physical:
                continue
            if column == "met" and self.met_reference is not None:
                out += ["met_para", "met_perp"]
            elif column != "met_phi" or self.met_reference is None:
                out.append(column)
        return out

    def field_coordinates(self, coordinates: list[str]) -> set[str]:
        """The coordinates among ``coordinates`` that hold a per-object field (``mu1_charge``,
        ``ll2_charge``, ``jet3_btag``)."""
        names = set()
        for c in self.collections:
            owners = [*c.objects(), *(f"{s.name}{i}" for s in self.systems for i in (1, 2))]
            names |= {f"{owner}_{f}" for owner in owners for f in c.fields}
        return names & set(coordinates)

    # --- maps ------------------------------------------------------------------------------
    def fit(self, table: pd.DataFrame) -> Representation:
        """Measure the fill of absent objects and how much fixing the masses changes the
        energy of the training objects."""
        self.padding = Padding(self.padding.seed)
        self._check_support(table)
        raw = self.forward(table)
        for c, obj, present in self._optional_slots(table):
            for f in self._object_coordinates(c):
                column = f"{obj}_{f}"
                values = raw[column].to_numpy(np.float64)[present]
                self.padding.learn(column, values, discrete=f in c.fields)
        changes = []
        for c in self.collections:
            if c.mass is None or self.kind != "ptetaphim":
                continue
            for obj in c.objects():
                pt, eta, e = (table[f"{obj}_{f}"].to_numpy(np.float64) for f in ("pt", "eta", "e"))
                present = pt > 0
                fixed = to_cartesian(pt[present], eta[present], 0.0, c.mass)[0]
                changes.append(np.abs(fixed - e[present]) / e[present])
        if changes:
            change = np.concatenate(changes)
            self.energy_change = {
                "objects": int(change.size),
                "mean_relative": float(change.mean()) if change.size else 0.0,
                "max_relative": float(change.max()) if change.size else 0.0,
            }
            log.info(
                "fixed masses change the energy of %d training objects by %.3g (mean) and %.3g "
                "(max) relative",
                change.size,
                self.energy_change["mean_relative"],
                self.energy_change["max_relative"],
            )
        return self

    def forward(self, table: pd.DataFrame) -> pd.DataFrame:
        """Physical event table → coordinate table (columns :meth:`coordinates`)."""
        columns = list(table.columns)
        out: dict[str, np.ndarray] = {}
        vectors = {
            obj: self._four_vector(table, c, obj) for c in self.collections for obj in c.objects()
        }
        for s in self.systems:
            coll = self._collection_of(s.objects[0])
            first = self._first_is_daughter_1(table, s)
            out |= self._system_frame(s, *(vectors[o] for o in s.objects), first)
            cuts = self.support_cuts(s)
            if cuts is not None:
                odds, missed = self._support_odds(s, out, cuts)
                out[f"{s.name}_costheta"] = odds
                if missed.any():
                    log.info(
                        "system %r: cos θ* of %d of %d events lies outside the range the "
                        "selection allows (mapped to its nearest end)",
                        s.name,
                        missed.sum(),
                        missed.size,
                    )
            for f in coll.fields:
                fa, fb = (table[f"{o}_{f}"].to_numpy(np.float64) for o in s.objects)
                out[f"{s.name}1_{f}"] = np.where(first, fa, fb)
                out[f"{s.name}2_{f}"] = np.where(first, fb, fa)
        in_system = self._in_system()
        for c in self.collections:
            for obj in c.objects():
                if obj in in_system:
                    continue
                for f in self._object_coordinates(c):
                    if f == "m":
                        out[f"{obj}_m"] = from_cartesian(*vectors[obj])[3]
                    else:
                        out[f"{obj}_{f}"] = table[f"{obj}_{f}"].to_numpy(np.float64)
        absent = {}
        for c, obj, present in self._optional_slots(table):
            absent |= {f"{obj}_{f}": ~present for f in self._object_coordinates(c)}
        self.padding.fill(out, absent)
        for c in self.collections:
            if c.slots > c.min_count and f"n_{c.name}" not in table:
                pt = np.column_stack([table[f"{o}_pt"].to_numpy(np.float64) for o in c.objects()])
                out[f"n_{c.name}"] = (pt > 0).sum(axis=1).astype(np.float64)
        if self.met_reference is not None:
            para, perp = met_relative(
                table["met"].to_numpy(np.float64),
                table["met_phi"].to_numpy(np.float64),
                self._reference_phi(out, table),
            )
            out["met_para"], out["met_perp"] = para, perp
        coordinates = self.coordinates(columns)
        for column in coordinates:
            if column not in out:  # multiplicities, scalars, MET as read: passed through
                out[column] = table[column].to_numpy(np.float64)
        return pd.DataFrame({c: out[c] for c in coordinates}, index=table.index)

    def four_vectors(self, coords: Mapping[str, Any]) -> dict[str, tuple[Any, Any, Any, Any]]:
        """Learned coordinates → (E, px, py, pz) [GeV] of every object, for NumPy arrays or
        torch tensors alike (differentiable: losses on physical masses build on it).

        Arguments:
            coords: coordinate → (n,) values, absolute angles (after the relative-angle
                inverse), e.g. ``{"ll_m": ..., "ll_pt": ..., "mu3_pt": ...}``.

        Returns:
            A system's daughters under ``<system>1`` and ``<system>2`` (daughter 1 and 2), every
            other object under its name; absent objects (pT = 0) have E = 0.
        """
        out: dict[str, tuple[Any, Any, Any, Any]] = {}
        for s in self.systems:
            coll = self._collection_of(s.objects[0])
            masses = [
                abs(coords[f"{s.name}{i}_m"]) if coll.mass is None else coll.mass for i in (1, 2)
            ]
            frame = [coords[f"{s.name}_{c}"] for c in SYSTEM_COORDINATES]
            cuts = self.support_cuts(s)
            _log_folded(s.name, frame, plain=cuts is None)
            frame[0] = abs(frame[0])
            if cuts is not None:
                m, pt, y, _, odds, phi_star = frame
                frame[4], empty = from_log_odds(odds, (m, pt, y, phi_star), masses, cuts)
                if empty.any():
                    log.warning(
                        "system %r: %d of %d events allow no cos θ* inside the selection "
                        "(given cos θ* = 0; the selection removes them)",
                        s.name,
                        empty.sum(),
                        empty.size,
                    )
            out[f"{s.name}1"], out[f"{s.name}2"] = two_body_from_frame(*frame, *masses)
        in_system = self._in_system()
        for c in self.collections:
            for obj in c.objects():
                if obj in in_system:
                    continue
                pt, eta, phi = (coords[f"{obj}_{f}"] for f in ("pt", "eta", "phi"))
                xp = namespace(pt)
                if self.kind == "ptetaphie":
                    e = coords[f"{obj}_e"]
                else:
                    m = c.mass if c.mass is not None else abs(coords[f"{obj}_m"])
                    e = xp.where(pt != 0, to_cartesian(abs(pt), eta, phi, m)[0], 0.0 * pt)
                out[obj] = (e, pt * xp.cos(phi), pt * xp.sin(phi), pt * xp.sinh(eta))
        return out

    def inverse(self, coords: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """Coordinate table → physical event table with ``columns``; daughters in pT order."""
        out: dict[str, np.ndarray] = {}
        arrays = {c: coords[c].to_numpy(np.float64) for c in coords.columns}
        vectors = self.four_vectors(arrays)
        for s in self.systems:
            coll = self._collection_of(s.objects[0])
            values = []
            for i in (1, 2):
                d = vectors[f"{s.name}{i}"]
                pt_eta_phi = dict(zip(("pt", "eta", "phi"), from_cartesian(*d)[:3], strict=True))
                values.append({"e": d[0], **pt_eta_phi})
                values[-1] |= {f: arrays[f"{s.name}{i}_{f}"] for f in coll.fields}
            lead = values[0]["pt"] >= values[1]["pt"]
            leading, trailing = s.objects
            for f in values[0]:
                out[f"{leading}_{f}"] = np.where(lead, values[0][f], values[1][f])
                out[f"{trailing}_{f}"] = np.where(lead, values[1][f], values[0][f])
        in_system = self._in_system()
        for c in self.collections:
            for obj in c.objects():
                if obj in in_system:
                    continue
                for f in ("pt", "eta", "phi", *c.fields):
                    out[f"{obj}_{f}"] = arrays[f"{obj}_{f}"]
                out[f"{obj}_e"] = vectors[obj][0]
        for c in self.collections:
            if c.slots <= c.min_count:
                continue
            count = np.rint(coords[f"n_{c.name}"].to_numpy(np.float64))
            count = np.clip(count, c.min_count, c.slots)
            for k, obj in enumerate(c.objects(), 1):
                if k > c.min_count:
                    for f in ("pt", "eta", "phi", "e", *c.fields):
                        out[f"{obj}_{f}"] = np.where(count >= k, out[f"{obj}_{f}"], 0.0)
        if self.met_reference is not None:
            met, met_phi = met_from_relative(
                coords["met_para"].to_numpy(np.float64),
                coords["met_perp"].to_numpy(np.float64),
                self._reference_phi(out, coords),
            )
            out["met"], out["met_phi"] = met, met_phi
        for column in columns:
            if column not in out:  # passed through by forward
                out[column] = arrays[column]
        return pd.DataFrame({c: out[c] for c in columns}, index=coords.index)

    def support_cuts(self, s: System) -> Cuts | None:
        """The daughters' selection (min_pt, max_abs_eta) when ``s`` learns cos θ* within it,
        else ``None`` (``costheta: plain``, or a collection without a selection)."""
        coll = self._collection_of(s.objects[0])
        eta = np.inf if coll.max_abs_eta is None else float(coll.max_abs_eta)
        if s.costheta != "support" or (coll.min_pt <= 0 and not np.isfinite(eta)):
            return None
        return float(coll.min_pt), eta

    # --- helpers ---------------------------------------------------------------------------
    def _system_frame(
        self, s: System, a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], first: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The system's coordinates (``ll_m`` …, plain cos θ*, learned daughter masses) from
        its objects' four-vectors ``a``, ``b``; ``first``: where ``a`` is daughter 1."""
        d1 = tuple(np.where(first, x, y) for x, y in zip(a, b, strict=True))
        d2 = tuple(np.where(first, y, x) for x, y in zip(a, b, strict=True))
        frame = two_body_to_frame(d1, d2)
        out = {f"{s.name}_{c}": v for c, v in zip(SYSTEM_COORDINATES, frame, strict=True)}
        if self._collection_of(s.objects[0]).mass is None:
            out[f"{s.name}1_m"], out[f"{s.name}2_m"] = (from_cartesian(*d)[3] for d in (d1, d2))
        return out

    def _support_odds(
        self, s: System, frame: dict[str, np.ndarray], cuts: Cuts
    ) -> tuple[np.ndarray, np.ndarray]:
        """The log-odds of the system's cos θ* and the ``missed`` mask of
        :func:`~hepgen.preprocessing.support.to_log_odds` (``frame``: :meth:`_system_frame`)."""
        m, pt, y, cos_theta, phi_star = (
            frame[f"{s.name}_{c}"] for c in ("m", "pt", "y", "costheta", "phistar")
        )
        mass = self._collection_of(s.objects[0]).mass
        masses = [frame[f"{s.name}{k}_m"] for k in (1, 2)] if mass is None else [mass] * 2
        return to_log_odds(cos_theta, (m, pt, y, phi_star), tuple(masses), cuts)

    def _check_support(self, table: pd.DataFrame) -> None:
        """Learn cos θ* as is where the training events do not keep to the selection the
        config names (more than :data:`_MISSED_MAX` of them outside the range it allows)."""
        for i, s in enumerate(self.systems):
            cuts = self.support_cuts(s)
            if cuts is None or not len(table):
                continue
            coll = self._collection_of(s.objects[0])
            a, b = (self._four_vector(table, coll, o) for o in s.objects)
            frame = self._system_frame(s, a, b, self._first_is_daughter_1(table, s))
            missed = self._support_odds(s, frame, cuts)[1]
            if missed.mean() > _MISSED_MAX:
                log.warning(
                    "system %r: %d of %d training events have cos θ* outside the range the "
                    "selection of objects '%s' (min_pt %g GeV, max_abs_eta %g) allows: the data "
                    "do not keep to it, so cos θ* is learned as is (costheta: plain)",
                    s.name,
                    missed.sum(),
                    missed.size,
                    coll.name,
                    *cuts,
                )
                self.systems[i] = replace(s, costheta="plain")

    def _object_coordinates(self, c: Collection) -> list[str]:
        if self.kind == "ptetaphie":
            return ["pt", "eta", "phi", "e", *c.fields]
        return ["pt", "eta", "phi", *(["m"] if c.mass is None else []), *c.fields]

    def _physical(self, columns: list[str]) -> list[str]:
        """The columns of ``columns`` that belong to an object (kinematics and fields)."""
        names = {
            f"{obj}_{f}"
            for c in self.collections
            for obj in c.objects()
            for f in ("pt", "eta", "phi", "e", *c.fields)
        }
        return [c for c in columns if c in names]

    def _optional_slots(self, table: pd.DataFrame):
        """(collection, object, (n,) presence) of every slot that can be empty."""
        in_system = self._in_system()
        for c in self.collections:
            for k, obj in enumerate(c.objects(), 1):
                if k > c.min_count and obj not in in_system:
                    yield c, obj, table[f"{obj}_pt"].to_numpy(np.float64) > 0

    def _in_system(self) -> set[str]:
        return {o for s in self.systems for o in s.objects}

    def _collection_of(self, obj: str) -> Collection:
        return next(c for c in self.collections if obj in c.objects())

    def _four_vector(self, table: pd.DataFrame, c: Collection, obj: str) -> tuple[np.ndarray, ...]:
        pt, eta, phi, e = (
            table[f"{obj}_{f}"].to_numpy(np.float64) for f in ("pt", "eta", "phi", "e")
        )
        if c.mass is not None and self.kind == "ptetaphim":
            vector = to_cartesian(pt, eta, phi, c.mass)
            return (np.where(pt > 0, vector[0], 0.0), *vector[1:])
        return e, pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)

    def _first_is_daughter_1(self, table: pd.DataFrame, s: System) -> np.ndarray:
        """(n,) True where ``s.objects[0]`` is daughter 1 (lower charge, or higher pT)."""
        if s.order == "charge":
            qa, qb = (table[f"{o}_charge"].to_numpy(np.float64) for o in s.objects)
            pa, pb = (table[f"{o}_pt"].to_numpy(np.float64) for o in s.objects)
            return (qa < qb) | ((qa == qb) & (pa >= pb))
        pa, pb = (table[f"{o}_pt"].to_numpy(np.float64) for o in s.objects)
        return pa >= pb

    def _reference_phi(self, known: dict[str, np.ndarray], table: pd.DataFrame) -> np.ndarray:
        column = f"{self.met_reference}_phi"
        source = known if column in known else table
        return np.asarray(source[column], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "collections": [asdict(c) for c in self.collections],
            "systems": [asdict(s) for s in self.systems],
            "met_reference": self.met_reference,
            "energy_change": self.energy_change,
            "padding": self.padding.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Representation:
        return cls(**data)

    @classmethod
    def from_config(
        cls, dataset: dict[str, Any], kind: str = "ptetaphim", *, seed: int = 0
    ) -> Representation:
        """Build from one ``datasets.<name>`` entry (``objects``, ``systems``, ``met.reference``)
        and ``preprocess.representation``; ``seed`` seeds the fill of absent objects."""
        met = dataset.get("met") or {}
        return cls(
            kind=kind,
            collections=[_collection(o) for o in dataset.get("objects", [])],
            systems=[_system(s) for s in dataset.get("systems", [])],
            met_reference=met.get("reference"),
            padding=Padding(seed),
        )


def _collection(entry: dict[str, Any]) -> Collection:
    return Collection(
        name=entry["name"],
        slots=int(entry.get("slots", entry.get("max", 0))),
        min_count=int(entry.get("min_count", entry.get("min", 0))),
        mass=None if entry.get("mass") is None else float(entry["mass"]),
        fields=tuple(entry.get("fields") or ()),
        min_pt=float(entry.get("min_pt") or 0.0),
        max_abs_eta=None if entry.get("max_abs_eta") is None else float(entry["max_abs_eta"]),
    )


def _log_folded(name: str, frame: list[Any], *, plain: bool) -> None:
    """Log how many generated systems (NumPy arrays; tensors are not inspected) have a
    negative mass (rebuilt with |m|) or, where cos θ is learned as is (``plain``), |cos θ| > 1
    (rebuilt with cos θ = ±1): both are counted here, not silently folded. ``frame``: the
    coordinates of SYSTEM_COORDINATES."""
    m, cos_theta = frame[0], frame[SYSTEM_COORDINATES.index("costheta")]
    if not isinstance(m, np.ndarray):
        return
    negative = int((m < 0).sum())
    beyond = int((np.abs(cos_theta) > 1.0).sum()) if plain else 0
    if negative or beyond:
        log.warning(
            "system %r: %d of %d events have a negative mass (rebuilt with |m|) and %d have "
            "|cos θ| > 1 (rebuilt with cos θ = ±1)",
            name,
            negative,
            len(m),
            beyond,
        )


def _system(entry: dict[str, Any]) -> System:
    return System(
        entry["name"],
        tuple(entry["objects"]),
        entry.get("order", "pt"),
        entry.get("costheta", "support"),
    )
