"""Generator-level objects paired with their reconstructed match: one table row per gen object.

A *fast detector simulation* learns the detector response of single objects conditioned on the
generator-level object, p(reco | gen), instead of whole events (CMS FlashSim: Vaselli et al.,
"End-to-end simulation of particle physics events with flow matching and generator
oversampling", Mach. Learn.: Sci. Technol. 5 (2024) 035007, arXiv:2402.13684). A dataset
with the config key ``pairs`` is ingested into one row per selected gen object:

- ``gen_pt, gen_eta, gen_phi``: the gen object [GeV, -, rad];
- ``reco_found``: 1 when the gen object has a (selected) reconstructed match, else 0;
- ``reco_response``: reco pT / gen pT; 1 when not found;
- ``reco_deta``: reco η − gen η; 0 when not found;
- ``reco_dphi``: reco φ − gen φ wrapped to (−π, π] [rad]; 0 when not found;

then the dataset's ``scalars`` and ``weight`` (each event's value repeated for its objects).
Rows come event by event, gen objects in file order within an event.

The match is one jagged integer branch, in either direction: ``gen_to_reco`` holds for each gen
object the index of its reco object in the same event (−1: not reconstructed), as the built-in
simulation writes ``gen_lep_reco``; ``reco_to_gen`` holds for each reco object the index of its
gen object (−1: none), as NanoAOD's ``Muon_genPartIdx``. Where several selected reco objects
point to one gen object, the one of highest pT is its match (counted in the log).

:func:`reassemble` is the inverse for generated rows: it rebuilds per-event reco collections
from the gen collection and the generated response columns.

The reading itself is :mod:`hepgen.io.pair_columns`; this module imports awkward and vector
only inside :func:`reassemble`, so that the dataset specification (:func:`pairs_from_config`)
stays light for the workflow's config parsing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepgen.errors import HepgenError

__all__ = [
    "PAIR_COLUMNS",
    "UNMATCHED",
    "POINTS",
    "RESPONSE_COLUMNS",
    "MatchSpec",
    "PairSide",
    "PairSpec",
    "pairs_from_config",
    "reassemble",
    "with_unmatched_response",
]

log = logging.getLogger(__name__)

#: Table columns of a pairs dataset, in order (before scalars and ``weight``).
PAIR_COLUMNS = (
    "gen_pt",
    "gen_eta",
    "gen_phi",
    "reco_found",
    "reco_response",
    "reco_deta",
    "reco_dphi",
)
#: The columns a fast-simulation generator produces, conditioned on ``gen_pt, gen_eta, gen_phi``.
RESPONSE_COLUMNS = PAIR_COLUMNS[3:]
#: The response of a gen object without a reconstructed match (``reco_found = 0``).
UNMATCHED = {"reco_response": 1.0, "reco_deta": 0.0, "reco_dphi": 0.0}


def with_unmatched_response(table: Any) -> Any:
    """A pairs table (pandas) with :data:`UNMATCHED` in the response columns of every row whose
    ``reco_found`` is below ½: a generated object that was not reconstructed has no response,
    so it takes the convention the truth holds. Tables without these columns are returned
    as they are."""
    if not {"reco_found", *UNMATCHED} <= set(table.columns):
        return table
    lost = table["reco_found"].to_numpy() < 0.5
    if lost.any():
        table = table.copy()
        for name, value in UNMATCHED.items():
            table.loc[lost, name] = value
    return table


#: Match directions of ``pairs.match.points``.
POINTS = ("gen_to_reco", "reco_to_gen")

#: Branch fields per kinematics convention (the same as :data:`hepgen.io.spec.KINEMATICS`).
_KINEMATICS = {
    "ptetaphie": ("pt", "eta", "phi", "e"),
    "ptetaphim": ("pt", "eta", "phi", "mass"),
    "pxpypze": ("px", "py", "pz", "e"),
}
_SIDE_KEYS = {"prefix", "branches", "kinematics", "min_pt", "max_abs_eta", "select"}


@dataclass(frozen=True)
class PairSide:
    """One collection of a pairs dataset (``pairs.gen`` or ``pairs.reco``).

    Arguments:
        side: ``"gen"`` or ``"reco"``.
        kinematics: a convention of :data:`hepgen.io.spec.KINEMATICS`.
        branches: field → jagged branch, for every field of ``kinematics``.
        min_pt: objects need pT > ``min_pt`` [GeV].
        max_abs_eta: objects need |η| < ``max_abs_eta``; ``None``: no cut.
        select: jagged integer branch → allowed absolute values (``GenPart_pdgId: [13]``):
            objects need ``|value|`` in the list for every branch.
    """

    side: str
    kinematics: str
    branches: dict[str, str]
    min_pt: float = 0.0
    max_abs_eta: float | None = None
    select: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"pairs.{self.side}"

    @property
    def counter(self) -> str:
        """The branch whose per-event length defines the collection's objects (its pT)."""
        return self.branches[_KINEMATICS[self.kinematics][0]]

    def selection(self) -> str:
        cuts = [f"pt > {self.min_pt:g} GeV"]
        if self.max_abs_eta is not None:
            cuts.append(f"|eta| < {self.max_abs_eta:g}")
        cuts.extend(f"|{b}| in {list(v)}" for b, v in self.select.items())
        return " and ".join(cuts)


@dataclass(frozen=True)
class MatchSpec:
    """The match branch (jagged ints, −1 = no match) and its direction, one of :data:`POINTS`."""

    branch: str
    points: str


@dataclass(frozen=True)
class PairSpec:
    """The ``pairs`` entry of a dataset: gen and reco collections and their match."""

    gen: PairSide
    reco: PairSide
    match: MatchSpec

    def branches(self) -> list[str]:
        """Every branch read, in a stable order."""
        names = [*self.gen.branches.values(), *self.gen.select]
        names += [*self.reco.branches.values(), *self.reco.select, self.match.branch]
        return list(dict.fromkeys(names))

    def jagged_roles(self) -> list[tuple[str, str, bool, str]]:
        """(branch, what it is read as, integers only, the branch whose counts it must share)."""
        roles = []
        for side in (self.gen, self.reco):
            roles += [
                (b, f"{side.key} field '{f}'", False, side.counter)
                for f, b in side.branches.items()
            ]
            roles += [(b, f"{side.key}.select", True, side.counter) for b in side.select]
        counted = self.gen if self.match.points == "gen_to_reco" else self.reco
        roles.append(
            (self.match.branch, f"pairs.match ({self.match.points})", True, counted.counter)
        )
        return roles


def pairs_from_config(entry: dict[str, Any]) -> PairSpec:
    """The :class:`PairSpec` of one ``datasets.<name>.pairs`` config entry.

    Raises:
        HepgenError: a missing part, unknown key, unknown kinematics or direction, or a branch
            read by both collections; the message names the key.
    """
    if not isinstance(entry, dict):
        msg = f"pairs must be a mapping with gen, reco and match, found {entry!r}"
        raise HepgenError(msg)
    missing = [k for k in ("gen", "reco", "match") if k not in entry]
    unknown = sorted(set(entry) - {"gen", "reco", "match"})
    if missing or unknown:
        msg = f"pairs needs keys gen, reco and match; missing {missing}, unexpected {unknown}"
        raise HepgenError(msg)
    gen, reco = _side_from_config("gen", entry["gen"]), _side_from_config("reco", entry["reco"])
    match = entry["match"]
    if not isinstance(match, dict) or "branch" not in match:
        msg = f"pairs.match needs a 'branch' (jagged ints, -1 = no match), found {match!r}"
        raise HepgenError(msg)
    points = match.get("points", "gen_to_reco")
    if points not in POINTS:
        msg = f"pairs.match.points must be one of {list(POINTS)}, found {points!r}"
        raise HepgenError(msg)
    extra = sorted(set(match) - {"branch", "points"})
    if extra:
        msg = f"pairs.match: unexpected keys {extra}; it takes branch and points"
        raise HepgenError(msg)
    spec = PairSpec(gen, reco, MatchSpec(str(match["branch"]), points))
    gen_branches = {*gen.branches.values(), *gen.select}
    shared = sorted(gen_branches & {*reco.branches.values(), *reco.select})
    if shared:
        msg = f"pairs.gen and pairs.reco both read branches {shared}: each branch belongs to one collection"
        raise HepgenError(msg)
    return spec


def _side_from_config(side: str, entry: Any) -> PairSide:
    key = f"pairs.{side}"
    if not isinstance(entry, dict):
        msg = f"{key} must be a mapping (prefix, kinematics, ...), found {entry!r}"
        raise HepgenError(msg)
    unknown = sorted(set(entry) - _SIDE_KEYS)
    if unknown:
        msg = f"{key}: unexpected keys {unknown}; it takes {sorted(_SIDE_KEYS)}"
        raise HepgenError(msg)
    kinematics = entry.get("kinematics", "ptetaphie")
    if kinematics not in _KINEMATICS:
        msg = f"{key}: kinematics must be one of {sorted(_KINEMATICS)}, found {kinematics!r}"
        raise HepgenError(msg)
    fields = _KINEMATICS[kinematics]
    branches = dict(entry.get("branches") or {})
    prefix = entry.get("prefix")
    if prefix is None and not branches:
        msg = f"{key}: give a branch 'prefix' or explicit 'branches'"
        raise HepgenError(msg)
    for f in fields:
        if prefix is not None:
            branches.setdefault(f, f"{prefix}{f}")
    missing = [f for f in fields if f not in branches]
    wrong = sorted(set(branches) - set(fields))
    flat = sorted(f for f, b in branches.items() if not isinstance(b, str))
    if missing or wrong or flat:
        msg = (
            f"{key}: kinematics {kinematics!r} needs one jagged branch (a string) for each of "
            f"{list(fields)}; missing {missing}, unexpected {wrong}, not a string {flat}"
        )
        raise HepgenError(msg)
    select = {}
    for branch, values in (entry.get("select") or {}).items():
        if (
            not isinstance(values, list | tuple)
            or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        ):
            msg = f"{key}.select.{branch}: needs a list of integers (absolute values kept), found {values!r}"
            raise HepgenError(msg)
        select[str(branch)] = tuple(abs(v) for v in values)
    max_abs_eta = entry.get("max_abs_eta")
    return PairSide(
        side=side,
        kinematics=kinematics,
        branches={f: branches[f] for f in fields},
        min_pt=float(entry.get("min_pt", 0.0)),
        max_abs_eta=None if max_abs_eta is None else float(max_abs_eta),
        select=select,
    )


# ---- generated rows → events ---------------------------------------------------------------


def reassemble(gen_events: Any, generated: Any) -> Any:
    """Per-event reconstructed collections from gen objects and their generated responses.

    Arguments:
        gen_events: (events, var) awkward records of the *selected* gen objects (those the
            pairs table holds, in its row order: event by event, file order within an event)
            with fields ``pt`` [GeV], ``eta``, ``phi`` [rad] and optionally ``mass`` or an
            energy (``energy``, ``e``, ``E``, ``t``) [GeV].
        generated: a mapping (pandas DataFrame, dict of arrays) with one row per gen object
            and columns :data:`RESPONSE_COLUMNS`.

    Returns:
        (events, var) awkward records, pT-ordered within each event, of the objects with
        ``reco_found`` ≥ 0.5 (objects with a non-positive generated response are dropped and
        counted in the log): ``pt = gen pt × reco_response``, ``eta = gen eta + reco_deta``,
        ``phi = gen phi + reco_dphi`` wrapped to (−π, π]. With a gen mass or energy the records
        are ``Momentum4D`` (``vector``) carrying the gen object's mass; without, ``Momentum3D``.
        Reco objects without a gen object (fakes) are not modelled by the pairs table.

    Raises:
        HepgenError: a missing field or column, or a row count other than the gen objects'.
    """
    import awkward as ak
    import vector

    from hepgen.preprocessing.angles import wrap_phi

    vector.register_awkward()
    gen_events = ak.Array(gen_events)
    names = set(ak.fields(gen_events))
    missing = [f for f in ("pt", "eta", "phi") if f not in names]
    if missing or gen_events.ndim != 2:
        msg = f"reassemble: gen_events must be (events, var) records with pt, eta, phi; missing {missing}, ndim {gen_events.ndim}"
        raise HepgenError(msg)
    counts = ak.to_numpy(ak.num(gen_events, axis=1))
    total = int(counts.sum())
    absent = [c for c in RESPONSE_COLUMNS if c not in generated]
    if absent:
        msg = f"reassemble: the generated table lacks columns {absent}"
        raise HepgenError(msg)
    cols = {c: np.asarray(generated[c], dtype=np.float64) for c in RESPONSE_COLUMNS}
    if any(len(v) != total for v in cols.values()):
        lengths = {c: len(v) for c, v in cols.items()}
        msg = f"reassemble: the generated table has {lengths} rows, but gen_events holds {total} objects"
        raise HepgenError(msg)
    flat = {
        f: ak.to_numpy(ak.flatten(gen_events[f], axis=1)).astype(np.float64)
        for f in ("pt", "eta", "phi")
    }
    pt = flat["pt"] * cols["reco_response"]
    keep = cols["reco_found"] >= 0.5
    unphysical = int((keep & ~(pt > 0)).sum())
    if unphysical:
        log.warning(
            "reassemble: %d found objects with a non-positive response are dropped", unphysical
        )
    keep &= pt > 0
    record = {
        "pt": pt,
        "eta": flat["eta"] + cols["reco_deta"],
        "phi": wrap_phi(flat["phi"] + cols["reco_dphi"]),
    }
    name = "Momentum3D"
    energy = next((f for f in ("mass", "energy", "e", "E", "t") if f in names), None)
    if energy is not None:
        gen = ak.flatten(gen_events, axis=1)
        if energy == "mass":
            record["mass"] = ak.to_numpy(gen["mass"]).astype(np.float64)
        else:
            e = ak.to_numpy(gen[energy]).astype(np.float64)
            p = flat["pt"] * np.cosh(flat["eta"])
            record["mass"] = np.sqrt(np.maximum((e - p) * (e + p), 0.0))
        name = "Momentum4D"
    event = np.repeat(np.arange(len(counts)), counts)[keep]
    kept = {k: v[keep] for k, v in record.items()}
    order = np.lexsort((-kept["pt"], event))  # by event, then pT down
    per_event = np.bincount(event, minlength=len(counts))
    objects = ak.zip({k: v[order] for k, v in kept.items()}, with_name=name)
    return ak.unflatten(objects, per_event)
