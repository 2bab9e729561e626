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
from hepgen.preprocessing.angles import PhiRelative
from hepgen.preprocessing.elementary import Elementary, Quantile, make
from hepgen.preprocessing.repair import ObjectLayout, find_objects, repair

__all__ = ["NOT_FEATURES", "Transform"]

log = logging.getLogger(__name__)

#: Table columns that are never network inputs.
NOT_FEATURES = ("weight",)


@dataclass
class Transform:
    """Angles relative to a reference object, then per-feature chains of elementary transforms.

    Arguments:
        features: network inputs, in order (``len(features)`` is the network's width).
        chains: feature → fitted elementary transforms, applied left to right.
        columns: physical columns :meth:`inverse` returns (``features`` plus a reference
            angle drawn uniformly); defaults to ``features``.
        phi: the relative-angle step, or ``None`` to keep absolute angles.
        objects: the zero-padded collections measured on the training split (for
            :meth:`postprocess`).
    """

    features: list[str]
    chains: dict[str, list[Elementary]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    phi: PhiRelative | None = None
    objects: list[ObjectLayout] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.columns = list(self.columns) or list(self.features)

    @classmethod
    def from_rules(
        cls, columns: list[str], rules: list[dict[str, Any]], *, phi: dict[str, Any] | None = None
    ) -> Transform:
        """Assign each feature the chain of the first rule whose ``match`` pattern fits it.

        Arguments:
            columns: the event table's columns (``weight`` is skipped).
            rules: ``[{"match": "*_pt", "chain": ["log", "standard"]}, ...]``.
            phi: ``{"reference": "mu1_phi", "mode": "uniform" | "keep", "seed": int}`` or ``None``.
        """
        physical = [c for c in columns if c not in NOT_FEATURES]
        angles = PhiRelative(**phi) if phi else None
        if angles is not None:
            angles.check(physical)
        dropped = {angles.reference} if angles is not None and angles.mode == "uniform" else set()
        features = [c for c in physical if c not in dropped]
        chains = {}
        for feature in features:
            rule = next((r for r in rules if fnmatch.fnmatchcase(feature, r["match"])), None)
            if rule is None:
                msg = f"feature {feature!r} matches no rule under preprocess.transforms (add match: '*')"
                raise HepgenError(msg)
            chains[feature] = [make(item, feature) for item in rule["chain"]]
        return cls(features, chains, physical, angles)

    def fit(self, table: pd.DataFrame) -> Transform:
        """Fit every chain, step by step, on the training table (physical units)."""
        self._check_columns(table, self.columns)
        self.objects = find_objects(table[self.columns])
        table = self.phi.fit(table).forward(table) if self.phi is not None else table
        for feature in self.features:
            x = table[feature].to_numpy(np.float64)
            for step in self.chains[feature]:
                x = step.fit(x, feature).forward(x)
            if not np.all(np.isfinite(x)):
                msg = f"feature {feature!r}: the fitted chain gives non-finite values on the training split"
                raise HepgenError(msg)
        return self

    def forward(self, table: pd.DataFrame) -> np.ndarray:
        """Event table → network inputs, float32 of shape (n, len(features))."""
        self._check_columns(table, self.columns)
        table = self.phi.forward(table) if self.phi is not None else table
        out = np.empty((len(table), len(self.features)), dtype=np.float32)
        for j, feature in enumerate(self.features):
            x = table[feature].to_numpy(np.float64)
            for step in self.chains[feature]:
                if isinstance(step, Quantile):
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
        table = pd.DataFrame(columns)
        if self.phi is not None:
            if self.phi.reference not in table:
                table[self.phi.reference] = 0.0
            table = self.phi.inverse(table, rng)
        return table[self.columns]

    def postprocess(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Repair generated events and count those invalid before repair (see :func:`repair`)."""
        return repair(table, self.objects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "columns": self.columns,
            "phi": self.phi.to_dict() if self.phi is not None else None,
            "objects": [asdict(o) for o in self.objects],
            "chains": {f: [s.to_dict() for s in self.chains[f]] for f in self.features},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transform:
        chains = {f: [make(s, f) for s in data["chains"][f]] for f in data["features"]}
        phi = PhiRelative(**data["phi"]) if data.get("phi") else None
        objects = [ObjectLayout(**o) for o in data.get("objects", [])]
        return cls(list(data["features"]), chains, list(data.get("columns", [])), phi, objects)

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
