"""A fitted transform: event table (physical units) ↔ float32 network inputs, and back."""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.io.pairs import with_unmatched_response
from hepgen.preprocessing.angles import PhiRelative
from hepgen.preprocessing.elementary import Elementary, Quantile, make
from hepgen.preprocessing.repair import ObjectLayout, find_objects, repair
from hepgen.preprocessing.representation import Representation

__all__ = ["NOT_FEATURES", "Transform"]

log = logging.getLogger(__name__)

#: The chain of a per-object field (charge, b-tag, ...) that only the catch-all rule matches.
FIELD_CHAIN = ("discrete", "standard")

#: Table columns that are never network inputs.
NOT_FEATURES = ("weight",)


@dataclass
class Transform:
    """The event representation, angles relative to a reference, then per-feature chains.

    Arguments:
        features: network inputs, in order (``len(features)`` is the network's width).
        chains: feature → fitted elementary transforms, applied left to right.
        columns: physical columns :meth:`inverse` returns; defaults to ``features``.
        phi: the relative-angle step, or ``None`` to keep absolute angles.
        objects: the zero-padded collections measured on the training split (for
            :meth:`postprocess`).
        representation: physical columns ↔ learned coordinates, or ``None`` to learn the
            physical columns themselves.
        constants: coordinates that hold one value on the whole training split (e.g. the
            charge of a system's first daughter when ordered by charge): not learned, restored
            by :meth:`inverse`.
    """

    features: list[str]
    chains: dict[str, list[Elementary]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    phi: PhiRelative | None = None
    objects: list[ObjectLayout] = field(default_factory=list)
    representation: Representation | None = None
    constants: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = list(self.columns) or list(self.features)

    @classmethod
    def from_rules(
        cls,
        columns: list[str],
        rules: list[dict[str, Any]],
        *,
        phi: dict[str, Any] | None = None,
        representation: Representation | None = None,
    ) -> Transform:
        """Assign each feature the chain of the first rule whose ``match`` pattern fits it.

        Arguments:
            columns: the event table's columns (``weight`` is skipped).
            rules: ``[{"match": "*_pt", "chain": ["log", "standard"]}, ...]``; a per-object field
                (``mu1_charge``, ``jet2_btag``) that only the catch-all ``"*"`` matches takes
                :data:`FIELD_CHAIN` instead, as it is discrete.
            phi: ``{"reference": "auto" | column | object | system, "mode": "uniform" |
                "keep", "seed": int}`` or ``None``; see :func:`resolve_reference`.
            representation: the learned coordinates; ``None`` learns ``columns`` as they are.
        """
        physical = [c for c in columns if c not in NOT_FEATURES]
        coordinates = representation.coordinates(physical) if representation else physical
        angles = None
        if phi:
            reference = resolve_reference(phi["reference"], coordinates, representation)
            angles = PhiRelative(**{**phi, "reference": reference})
            angles.check(coordinates)
        dropped = {angles.reference} if angles is not None and angles.mode == "uniform" else set()
        features = [c for c in coordinates if c not in dropped]
        chains = {}
        fields = representation.field_coordinates(coordinates) if representation else set()
        for feature in features:
            rule = next((r for r in rules if fnmatch.fnmatchcase(feature, r["match"])), None)
            if rule is None:
                msg = f"feature {feature!r} matches no rule under preprocess.transforms (add match: '*')"
                raise HepgenError(msg)
            chain = rule["chain"]
            if feature in fields and rule["match"] == "*":
                chain = FIELD_CHAIN  # a per-object field no rule names is a discrete feature
            chains[feature] = [make(item, feature) for item in chain]
        return cls(features, chains, physical, angles, representation=representation)

    def fit(self, table: pd.DataFrame) -> Transform:
        """Fit the representation and every chain, step by step, on the training table."""
        self._check_columns(table, self.columns)
        self.objects = find_objects(table[self.columns])
        table = self._coordinates(table, fit=True)
        self.constants = {}
        for feature in list(self.features):
            x = table[feature].to_numpy(np.float64)
            if x.size and np.all(x == x[0]):
                self.constants[feature] = float(x[0])
                self.features.remove(feature)
                del self.chains[feature]
                log.info(
                    "feature %r is %g in every training event: kept as a constant", feature, x[0]
                )
                continue
            for step in self.chains[feature]:
                x = step.fit(x, feature).forward(x)
            if not np.all(np.isfinite(x)):
                msg = f"feature {feature!r}: the fitted chain gives non-finite values on the training split"
                raise HepgenError(msg)
        return self

    def forward(self, table: pd.DataFrame, *, log_outside: bool = True) -> np.ndarray:
        """Event table → network inputs, float32 of shape (n, len(features)).

        ``log_outside`` logs the values outside the range of a quantile transform.
        """
        self._check_columns(table, self.columns)
        table = self._coordinates(table)
        out = np.empty((len(table), len(self.features)), dtype=np.float32)
        for j, feature in enumerate(self.features):
            x = table[feature].to_numpy(np.float64)
            for step in self.chains[feature]:
                if log_outside and isinstance(step, Quantile):
                    _log_outside(step, x, feature)
                x = step.forward(x)
            out[:, j] = x
        return out

    def inverse(self, array: np.ndarray, *, rng: np.random.Generator | None = None) -> pd.DataFrame:
        """Network outputs of shape (n, len(features)) → event table in physical units (float64).

        Arguments:
            array: generated network outputs.
            rng: draws the reference angle when ``phi.mode == "uniform"``; ``None`` seeds a
                generator from ``phi.seed`` (the same draw on every call).
        """
        if array.ndim != 2 or array.shape[1] != len(self.features):
            msg = f"inverse expects shape (n, {len(self.features)}), found {array.shape}"
            raise HepgenError(msg)
        columns = {}
        for j, feature in enumerate(self.features):
            y = array[:, j].astype(np.float64)
            for step in reversed(self.chains[feature]):
                y = step.inverse(y)
            columns[feature] = y
        for feature, value in self.constants.items():
            columns[feature] = np.full(len(array), value)
        table = pd.DataFrame(columns)
        if self.phi is not None:
            if self.phi.reference not in table:
                table[self.phi.reference] = 0.0
            table = self.phi.inverse(table, rng)
        if self.representation is not None:
            return self.representation.inverse(table, self.columns)
        return table[self.columns]

    def coordinates(self, table: pd.DataFrame) -> pd.DataFrame:
        """Physical table → the learned coordinates with relative angles, before the chains."""
        self._check_columns(table, self.columns)
        return self._coordinates(table)

    def _coordinates(self, table: pd.DataFrame, *, fit: bool = False) -> pd.DataFrame:
        """Physical table → learned coordinates with relative angles (fitting both if asked)."""
        if self.representation is not None:
            if fit:
                self.representation.fit(table)
            table = self.representation.forward(table[self.columns])
        if self.phi is not None:
            table = (self.phi.fit(table) if fit else self.phi).forward(table)
        return table

    def postprocess(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Repair generated events, then remove those :meth:`usable` refuses.

        A fast-simulation (pairs) table's unreconstructed objects first take the response
        convention of the truth (:func:`hepgen.io.pairs.with_unmatched_response`).

        Returns:
            The repaired, usable events and the validity record of :func:`repair` with the
            removed events added: ``removed`` and the reason ``unusable`` (both counted as
            invalid).
        """
        repaired, stats = repair(with_unmatched_response(table), self.objects)
        usable = self.usable(repaired)
        removed = int((~usable).sum())
        if removed:
            # every removed event is invalid and unphysical; the kept ones as the repair found them
            repaired = repaired[usable].reset_index(drop=True)
            kept = repair(table[usable], self.objects)[1]
            stats["invalid"] = kept["invalid"] + removed
            stats["unphysical"] = kept["unphysical"] + removed
            stats["invalid_fraction"] = stats["invalid"] / stats["events"]
            stats["reasons"]["unusable"] = removed
        stats["removed"] = removed
        return repaired, stats

    def exclude_unusable(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """The usable events of ``table`` (index reset) and ``{"events": excluded, "of": n}``."""
        usable = self.usable(table)
        excluded = {"events": int((~usable).sum()), "of": len(table)}
        if excluded["events"]:
            log.warning(
                "%d of %d events are unusable (NaN/inf, or outside the transform's support) and "
                "are excluded",
                excluded["events"],
                len(table),
            )
            table = table[usable].reset_index(drop=True)
        return table, excluded

    def usable(self, table: pd.DataFrame) -> np.ndarray:
        """(n,) True for events every metric can take: the one definition of a usable event.

        An event is usable when its physical columns are finite and it maps to finite network
        inputs (:meth:`forward`): inside the support the transform was fitted on, e.g. no
        log of a non-positive pT and a system whose daughters are both present.
        """
        physical = table[self.columns].to_numpy(np.float64)
        ok = np.isfinite(physical).all(axis=1)
        with np.errstate(all="ignore"):
            inputs = self.forward(
                table.fillna(0.0).replace([np.inf, -np.inf], 0.0), log_outside=False
            )
        return ok & np.isfinite(inputs).all(axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "columns": self.columns,
            "phi": self.phi.to_dict() if self.phi is not None else None,
            "objects": [asdict(o) for o in self.objects],
            "representation": self.representation.to_dict() if self.representation else None,
            "constants": self.constants,
            "chains": {f: [s.to_dict() for s in self.chains[f]] for f in self.features},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transform:
        chains = {f: [make(s, f) for s in data["chains"][f]] for f in data["features"]}
        phi = PhiRelative(**data["phi"]) if data.get("phi") else None
        objects = [ObjectLayout(**o) for o in data.get("objects", [])]
        rep = data.get("representation")
        return cls(
            list(data["features"]),
            chains,
            list(data.get("columns", [])),
            phi,
            objects,
            Representation.from_dict(rep) if rep else None,
            dict(data.get("constants", {})),
        )

    def save(self, path: str | os.PathLike, **metadata: Any) -> None:
        """Write human-readable JSON atomically; ``metadata`` is stored beside the chains."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({**self.to_dict(), "metadata": metadata}, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Transform:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as err:
            msg = f"cannot read transform {os.fspath(path)!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err

    @staticmethod
    def _check_columns(table: pd.DataFrame, columns: list[str]) -> None:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            msg = f"the event table lacks columns {missing}"
            raise HepgenError(msg)


def resolve_reference(
    reference: str, coordinates: list[str], representation: Representation | None
) -> str:
    """The angle column that ``preprocess.phi.reference`` names among the learned coordinates.

    ``auto`` is the azimuth of the first system, else of the first object of the first
    collection; an object or system name (``mu1``, ``ll``) means its ``_phi`` column; a
    daughter's angle (``mu1_phi`` of system ``ll``) means the system's (``ll_phi``).
    """
    systems = representation.systems if representation else []
    if reference == "auto":
        if systems:
            return f"{systems[0].name}_phi"
        angles = [c for c in coordinates if c.endswith("_phi")]
        if not angles:
            msg = f"preprocess.phi.reference 'auto' finds no angle among {coordinates}"
            raise HepgenError(msg)
        return angles[0]
    if reference in coordinates:
        return reference
    stem = reference.removesuffix("_phi")
    for s in systems:
        if stem in s.objects or stem == s.name:
            return f"{s.name}_phi"
    return f"{stem}_phi"


def _log_outside(step: Quantile, x: np.ndarray, feature: str) -> None:
    lo, hi = step.range()
    outside = int(((x < lo) | (x > hi)).sum())
    if outside:
        log.warning(
            "feature %r: %d of %d values lie outside the training range [%g, %g] of its "
            "quantile transform and are mapped onto its ends",
            feature,
            outside,
            len(x),
            lo,
            hi,
        )
