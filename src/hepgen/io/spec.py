"""Dataset specifications: which ROOT branches become which event-table columns."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hepgen.errors import HepgenError
from hepgen.io.pairs import PAIR_COLUMNS, PairSpec, pairs_from_config

__all__ = ["KINEMATICS", "DatasetSpec", "MetSpec", "ObjectSpec", "expand_files"]

#: Branch fields per kinematics convention; every convention is converted to (pt, eta, phi, e).
KINEMATICS: dict[str, tuple[str, ...]] = {
    "ptetaphie": ("pt", "eta", "phi", "e"),
    "ptetaphim": ("pt", "eta", "phi", "mass"),
    "pxpypze": ("px", "py", "pz", "e"),
}


@dataclass(frozen=True)
class ObjectSpec:
    """One object collection (jets, muons, ...) of the ntuple.

    Arguments:
        name: column prefix in the event table (``mu`` gives ``mu1_pt``, ``mu2_eta``, ...).
        kinematics: one of :data:`KINEMATICS`.
        max: objects kept per event; fewer are zero-padded, more are dropped (pT order).
        branches: field → branch. A string names one jagged branch; a list names one flat
            branch per object slot (``["pt1", "pt2"]``), as in flat ntuples.
        min: events with fewer selected objects are removed.
        min_pt: object selection [GeV].
        max_abs_eta: object selection.
        multiplicity: add a column ``n_<name>`` with the number of selected objects.
        fields: per-object fields beyond kinematics (``charge``, ``btag`` …), each read from
            the branch ``branches[field]`` into columns ``<name><k>_<field>``.
    """

    name: str
    kinematics: str
    max: int
    branches: dict[str, str | list[str]]
    min: int = 0
    min_pt: float = 0.0
    max_abs_eta: float | None = None
    multiplicity: bool = False
    fields: tuple[str, ...] = ()

    @property
    def flat(self) -> bool:
        """True when every field is given as per-slot flat branches."""
        return all(isinstance(b, list) for b in self.branches.values())


@dataclass(frozen=True)
class MetSpec:
    """Missing transverse momentum as (pt, phi) or (px, py) branches."""

    pt: str | None = None
    phi: str | None = None
    px: str | None = None
    py: str | None = None

    @property
    def polar(self) -> bool:
        return self.pt is not None


@dataclass(frozen=True)
class DatasetSpec:
    """Everything ingestion needs to turn ROOT files into an event table."""

    files: list[str]
    tree: str
    objects: list[ObjectSpec] = field(default_factory=list)
    met: MetSpec | None = None
    weight: str | None = None
    scalars: list[str] = field(default_factory=list)
    pairs: PairSpec | None = None

    def __post_init__(self) -> None:
        _check_shared_branches(self.objects)
        if self.pairs is not None and (self.objects or self.met is not None):
            msg = "the dataset key 'pairs' (one row per gen object) cannot be combined with 'objects' or 'met'"
            raise HepgenError(msg)
        made: dict[str, str] = {}
        for column, origin in self.column_origins():
            if column in made:
                first = made[column]
                by = f"twice by {origin}" if first == origin else f"by both {first} and {origin}"
                msg = f"the event table would get column {column!r} {by}: rename one"
                raise HepgenError(msg)
            made[column] = origin

    def column_origins(self) -> list[tuple[str, str]]:
        """(column, the config entry making it) for every event-table column, in table order:
        per collection ``<name><k>_<field>`` (k = 1..max; pt [GeV], eta, phi [rad], e [GeV],
        then per-object fields) and ``n_<name>``; ``met, met_phi``; scalars; ``weight``."""
        columns = [(c, "pairs") for c in PAIR_COLUMNS] if self.pairs is not None else []
        for obj in self.objects:
            origin = f"objects '{obj.name}'"
            for k in range(1, obj.max + 1):
                columns.extend(
                    (f"{obj.name}{k}_{f}", origin) for f in ("pt", "eta", "phi", "e", *obj.fields)
                )
            if obj.multiplicity:
                columns.append((f"n_{obj.name}", f"{origin} multiplicity"))
        if self.met is not None:
            columns.extend((c, "met") for c in ("met", "met_phi"))
        columns.extend((name, "scalars") for name in self.scalars)
        if self.weight:
            columns.append(("weight", "weight"))
        return columns

    @classmethod
    def from_config(cls, config: dict[str, Any], files: list[str] | None = None) -> DatasetSpec:
        """Build a spec from one ``datasets.<name>`` config entry.

        Arguments:
            config: the dataset entry (already schema-validated).
            files: the input files; defaults to ``config["files"]``.
        """
        pairs = config.get("pairs")
        if pairs is not None:
            clash = [k for k in ("objects", "systems", "met") if config.get(k)]
            if clash:
                msg = f"datasets entry: 'pairs' (one row per gen object) cannot be combined with {clash}; remove one"
                raise HepgenError(msg)
        objects = [_object_from_config(o) for o in config.get("objects", [])]
        met = config.get("met")
        return cls(
            files=list(files if files is not None else config.get("files", [])),
            tree=config.get("tree", "events"),
            objects=objects,
            met=MetSpec(**{k: v for k, v in met.items() if k != "reference"}) if met else None,
            weight=config.get("weight"),
            scalars=list(config.get("scalars", [])),
            pairs=None if pairs is None else pairs_from_config(pairs),
        )


def _object_from_config(entry: dict[str, Any]) -> ObjectSpec:
    kinematics = entry.get("kinematics", "ptetaphie")
    if kinematics not in KINEMATICS:
        msg = f"objects '{entry['name']}': kinematics must be one of {sorted(KINEMATICS)}, found {kinematics!r}"
        raise HepgenError(msg)
    fields = KINEMATICS[kinematics]
    branches = dict(entry.get("branches") or {})
    prefix = entry.get("prefix")
    if prefix is None and not branches:
        msg = f"objects '{entry['name']}': give a branch 'prefix' or explicit 'branches'"
        raise HepgenError(msg)
    for f in fields:
        branches.setdefault(f, f"{prefix}{f}" if prefix is not None else None)
    missing = [f for f in fields if branches[f] is None]
    unknown = sorted(set(branches) - set(fields))
    if missing or unknown:
        msg = (
            f"objects '{entry['name']}': kinematics {kinematics!r} needs branches for {list(fields)}; "
            f"missing {missing}, unexpected {unknown}"
        )
        raise HepgenError(msg)
    extra = dict(entry.get("fields") or {})
    clash = sorted(set(extra) & {f for fs in KINEMATICS.values() for f in fs})
    if clash:
        msg = (
            f"objects '{entry['name']}': fields {clash} are kinematics; name them under 'branches'"
        )
        raise HepgenError(msg)
    spec = ObjectSpec(
        name=entry["name"],
        kinematics=kinematics,
        max=int(entry["max"]),
        branches={**{f: branches[f] for f in fields}, **extra},
        min=int(entry.get("min", 0)),
        min_pt=float(entry.get("min_pt", 0.0)),
        max_abs_eta=entry.get("max_abs_eta"),
        multiplicity=bool(entry.get("multiplicity", False)),
        fields=tuple(extra),
    )
    kinds = {isinstance(b, list) for b in spec.branches.values()}
    if len(kinds) > 1:
        msg = f"objects '{spec.name}': mix of jagged (string) and flat (list) branches"
        raise HepgenError(msg)
    if spec.flat and any(len(b) != len(spec.branches[fields[0]]) for b in spec.branches.values()):
        msg = f"objects '{spec.name}': flat branch lists must all have the same length"
        raise HepgenError(msg)
    return spec


def _check_shared_branches(objects: list[ObjectSpec]) -> None:
    """Each branch belongs to one collection: two reading the same branches are a config slip
    (a copied entry, a prefix of another collection) that would duplicate objects."""
    owner: dict[str, str] = {}
    for obj in objects:
        names = [b for bs in obj.branches.values() for b in (bs if isinstance(bs, list) else [bs])]
        for other in dict.fromkeys(owner[b] for b in names if b in owner):
            shared = [b for b in dict.fromkeys(names) if owner.get(b) == other]
            msg = f"objects '{other}' and '{obj.name}' both read branches {shared}: each branch belongs to one collection"
            raise HepgenError(msg)
        owner.update(dict.fromkeys(names, obj.name))


def expand_files(patterns: list[str]) -> list[str]:
    """Expand paths and globs into a sorted, de-duplicated file list.

    Raises:
        HepgenError: a plain path that does not exist, or a glob that matches nothing.
    """
    files: list[str] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matched = sorted(glob.glob(pattern))
            if not matched:
                msg = f"input glob {pattern!r} matches no file"
                raise HepgenError(msg)
            files.extend(matched)
        elif not Path(pattern).is_file():
            msg = f"input file {pattern!r} does not exist"
            raise HepgenError(msg)
        else:
            files.append(pattern)
    if not files:
        msg = "no input files given"
        raise HepgenError(msg)
    return list(dict.fromkeys(files))
