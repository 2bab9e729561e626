"""A fitted per-feature transform chain: event table (physical units) ↔ float32 network inputs."""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepgen.preprocessing.elementary import Elementary, make
from hepgen.runtime import HepgenError, atomic_path

__all__ = ["NOT_FEATURES", "Transform"]

#: Table columns that are never network inputs.
NOT_FEATURES = ("weight",)


@dataclass
class Transform:
    """Per-feature chains of elementary transforms.

    Arguments:
        features: feature columns, in network-input order.
        chains: feature → list of fitted elementary transforms, applied left to right.
    """

    features: list[str]
    chains: dict[str, list[Elementary]] = field(default_factory=dict)

    @classmethod
    def from_rules(cls, columns: list[str], rules: list[dict[str, Any]]) -> Transform:
        """Assign each feature the chain of the first rule whose ``match`` pattern fits it.

        Arguments:
            columns: the event table's columns (``weight`` is skipped).
            rules: ``[{"match": "*_pt", "chain": ["log", "standard"]}, ...]``.
        """
        features = [c for c in columns if c not in NOT_FEATURES]
        chains = {}
        for feature in features:
            rule = next((r for r in rules if fnmatch.fnmatchcase(feature, r["match"])), None)
            if rule is None:
                msg = f"feature {feature!r} matches no rule under preprocess.transforms (add match: '*')"
                raise HepgenError(msg)
            chains[feature] = [make(item, feature) for item in rule["chain"]]
        return cls(features, chains)

    def fit(self, table: pd.DataFrame) -> Transform:
        """Fit every chain, step by step, on the training table (physical units)."""
        self._check_columns(table)
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
        self._check_columns(table)
        out = np.empty((len(table), len(self.features)), dtype=np.float32)
        for j, feature in enumerate(self.features):
            x = table[feature].to_numpy(np.float64)
            for step in self.chains[feature]:
                x = step.forward(x)
            out[:, j] = x
        return out

    def inverse(self, array: np.ndarray) -> pd.DataFrame:
        """Network outputs of shape (n, len(features)) → event table in physical units (float64)."""
        if array.ndim != 2 or array.shape[1] != len(self.features):
            msg = f"inverse expects shape (n, {len(self.features)}), found {array.shape}"
            raise HepgenError(msg)
        columns = {}
        for j, feature in enumerate(self.features):
            y = array[:, j].astype(np.float64)
            for step in reversed(self.chains[feature]):
                y = step.inverse(y)
            columns[feature] = y
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "chains": {f: [s.to_dict() for s in self.chains[f]] for f in self.features},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transform:
        chains = {f: [make(s, f) for s in data["chains"][f]] for f in data["features"]}
        return cls(list(data["features"]), chains)

    def save(self, path: str | os.PathLike, **metadata: Any) -> None:
        """Write human-readable JSON atomically; ``metadata`` is stored beside the chains."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({**self.to_dict(), "metadata": metadata}, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Transform:
        try:
            data = json.loads(Path(path).read_text())
            return cls.from_dict(data)
        except (OSError, ValueError, KeyError) as err:
            msg = f"cannot read transform {os.fspath(path)!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err

    def _check_columns(self, table: pd.DataFrame) -> None:
        missing = [f for f in self.features if f not in table.columns]
        if missing:
            msg = f"the event table lacks feature columns {missing}"
            raise HepgenError(msg)
