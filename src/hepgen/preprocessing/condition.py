"""Condition columns of a conditional generator: what it is given, beside what it generates.

A conditional model learns p(features | condition). Its inputs are the dataset's transformed
features less the conditions that are among them, followed by the k condition columns, in the
order the model entry names them (``models[].condition``). A condition is one of

- a learned coordinate of the dataset (a feature of its :class:`Transform`: ``gen_pt`` of a
  fast-simulation dataset, ``ll_m`` of a dimuon system): it is transformed by the dataset's
  own fitted chain and is not generated;
- any other column of the event table, or an observable derived from it
  (:func:`hepgen.preprocessing.observables.derived_table`: ``m_mumu``, ``ht``): a function of
  the generated event, given to the model through a chain of its own, fitted on the training
  split with the first matching rule of ``preprocess.transforms``. The model still generates
  every feature, so the generated event's own value of such a condition can be compared with
  the one asked for (:meth:`Conditioning.mismatch`).

Conditions that are not table columns come back from :meth:`Conditioning.inverse` as columns
``condition_<name>`` beside the event's own columns.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.preprocessing.elementary import Elementary, make
from hepgen.preprocessing.observables import derived_columns, derived_table
from hepgen.preprocessing.transform import Transform

__all__ = [
    "PREFIX",
    "Conditioning",
    "condition_values",
    "per_condition_weights",
    "unknown_conditions",
]

log = logging.getLogger(__name__)

#: Column prefix of a condition that is not a column of the event table.
PREFIX = "condition_"


def unknown_conditions(
    names: Sequence[str], columns: Sequence[str], coordinates: Sequence[str]
) -> list[str]:
    """The condition ``names`` that are neither a table column, a learned coordinate nor an
    observable derivable from the table's columns (checked before any job runs).

    Arguments:
        names: a model entry's ``condition``.
        columns: the dataset's event-table columns.
        coordinates: its learned coordinates (:meth:`Representation.coordinates`).
    """
    known = set(columns) | set(coordinates)
    rest = [n for n in names if n not in known]
    if not rest:
        return []
    probe = pd.DataFrame(np.ones((1, len(columns))), columns=list(columns))
    derivable = set(derived_columns(probe, rest))
    return [n for n in rest if n not in derivable]


def condition_values(
    table: pd.DataFrame, names: Sequence[str], transform: Transform
) -> pd.DataFrame:
    """The physical values of the conditions ``names`` of every row of ``table``, shape
    (n, len(names)): its own columns, else a generated sample's ``condition_<name>``, else the
    learned coordinates of ``transform`` computed from the event's columns, else the derived
    observables (:func:`~hepgen.preprocessing.observables.derived_table`)."""
    out = pd.DataFrame(index=table.index)
    coordinates = None
    for name in names:
        if name in table.columns:
            out[name] = table[name].to_numpy(np.float64)
        elif f"{PREFIX}{name}" in table.columns:
            out[name] = table[f"{PREFIX}{name}"].to_numpy(np.float64)
        elif name in transform.features and set(transform.columns) <= set(table):
            if coordinates is None:
                coordinates = transform.coordinates(table)
            out[name] = coordinates[name].to_numpy(np.float64)
        elif name in derived_columns(table.head(16), [name]):
            out[name] = derived_table(table, [name])[name].to_numpy(np.float64)
        else:
            msg = (
                f"condition {name!r} is neither a column of the given table nor derivable "
                f"from its columns {list(table.columns)[:12]}..."
            )
            raise HepgenError(msg)
    return out


def per_condition_weights(weights: np.ndarray, values: pd.DataFrame, bins: int = 50) -> np.ndarray:
    """Event weights with their dependence on the conditions divided out (``training.weights:
    per_condition``).

    A conditional model learns p(x | c); weights w(x, c) = g(c) h(x, c) and h alone lead to the
    same optimum, since g(c) only decides how much each condition counts. A stitched sample
    (``simulate.slices``) whose slices are cut on (nearly) the condition carries weights that
    differ by orders of magnitude between slices: trained with them, the rare region the
    slices populate would count for its physical share only. Here each weight is divided by
    the mean weight of the events in the same cell of condition quantiles, so every cell
    counts by its number of events, while the relative weights inside a cell (the mix of
    slices near a slice boundary, generator weights) stay as they are.

    Arguments:
        weights: (n,) event weights.
        values: (n, k) physical condition values (:func:`condition_values`).
        bins: about this many cells in all: ``max(2, round(bins ** (1 / k)))`` quantile bins
            per condition.

    Returns:
        (n,) float64 weights, mean 1; events of a cell whose weights sum to zero get 0.
    """
    weights = np.asarray(weights, dtype=np.float64)
    per_axis = max(2, round(bins ** (1.0 / max(values.shape[1], 1))))
    cell = np.zeros(len(weights), dtype=np.int64)
    for name in values.columns:
        x = values[name].to_numpy(np.float64)
        edges = np.unique(np.nanquantile(x, np.linspace(0.0, 1.0, per_axis + 1))[1:-1])
        cell = cell * (len(edges) + 1) + np.searchsorted(edges, x, side="right")
    _, index = np.unique(cell, return_inverse=True)
    totals = np.bincount(index, weights=weights)
    counts = np.bincount(index)
    means = np.divide(totals, counts, out=np.zeros_like(totals), where=totals != 0)
    out = np.divide(weights, means[index], out=np.zeros_like(weights), where=means[index] != 0)
    return out / out.mean()


class Conditioning:
    """The split of a model's inputs into generated features and condition columns.

    Arguments:
        transform: the dataset's fitted transform.
        columns: the condition names, in the order the model reads them (k of them).
        chains: fitted chains of the conditions that are not features of ``transform``.
    """

    def __init__(
        self,
        transform: Transform,
        columns: Sequence[str],
        chains: dict[str, list[Elementary]] | None = None,
    ) -> None:
        self.transform = transform
        self.columns = list(columns)
        self.chains = dict(chains or {})
        features = set(transform.features)
        self.generated = [f for f in transform.features if f not in self.columns]
        self.derived = [c for c in self.columns if c not in features]
        missing = [c for c in self.derived if c not in self.chains]
        if missing:
            msg = f"conditions {missing} have no fitted chain"
            raise HepgenError(msg)
        self._check_angles()

    @classmethod
    def from_rules(
        cls, transform: Transform, columns: Sequence[str], rules: list[dict[str, Any]]
    ) -> Conditioning:
        """Conditions with unfitted chains for those outside the transform's features: the chain
        of the first rule of ``preprocess.transforms`` whose ``match`` fits the name."""
        chains = {}
        for name in columns:
            if name in transform.features:
                continue
            if name in transform.constants:
                msg = (
                    f"condition {name!r} holds one value ({transform.constants[name]:g}) in every "
                    "training event: it cannot condition anything"
                )
                raise HepgenError(msg)
            rule = next((r for r in rules if fnmatch.fnmatchcase(name, r["match"])), None)
            if rule is None:
                msg = f"condition {name!r} matches no rule under preprocess.transforms (add match: '*')"
                raise HepgenError(msg)
            chains[name] = [make(item, name) for item in rule["chain"]]
        return cls(transform, columns, chains)

    @property
    def inputs(self) -> list[str]:
        """The model's input names: the generated features, then the conditions."""
        return [*self.generated, *self.columns]

    def fit(self, table: pd.DataFrame) -> Conditioning:
        """Fit the chains of the conditions outside the transform's features on ``table``."""
        values = self.physical(table, self.derived)
        for name in self.derived:
            x = values[name].to_numpy(np.float64)
            if not np.isfinite(x).all():
                bad = int((~np.isfinite(x)).sum())
                msg = f"condition {name!r} is undefined (NaN) in {bad} of {len(x)} training events"
                raise HepgenError(msg)
            for step in self.chains[name]:
                x = step.fit(x, name).forward(x)
        return self

    def physical(self, table: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
        """The physical values of the conditions ``names`` (default all) of every row of
        ``table`` (:func:`condition_values`), shape (n, len(names))."""
        return condition_values(table, self.columns if names is None else names, self.transform)

    def encode(self, table: pd.DataFrame) -> np.ndarray:
        """The transformed conditions of every row of ``table`` (see :meth:`physical`), float32
        of shape (n, k): the last k model inputs."""
        values = self.physical(table)
        out = np.empty((len(table), len(self.columns)), dtype=np.float32)
        for j, name in enumerate(self.columns):
            x = values[name].to_numpy(np.float64)
            for step in self._chain(name):
                x = step.forward(x)
            out[:, j] = x
        return out

    def decode(self, encoded: np.ndarray) -> pd.DataFrame:
        """Transformed conditions (n, k) → their physical values, one column per condition."""
        out = {}
        for j, name in enumerate(self.columns):
            y = np.asarray(encoded[:, j], dtype=np.float64)
            for step in reversed(self._chain(name)):
                y = step.inverse(y)
            out[name] = y
        return pd.DataFrame(out)

    def _chain(self, name: str) -> list[Elementary]:
        return self.chains[name] if name in self.chains else self.transform.chains[name]

    def forward(self, table: pd.DataFrame, *, log_outside: bool = True) -> np.ndarray:
        """Event table → model inputs, float32 of shape (n, d − k' + k): the generated features
        (the dataset's features less the k' conditions among them), then the conditions.

        ``log_outside`` is :meth:`Transform.forward`'s."""
        features = self.transform.forward(table, log_outside=log_outside)
        index = [self.transform.features.index(f) for f in self.generated]
        return np.concatenate([features[:, index], self.encode(table)], axis=1)

    def inverse(self, array: np.ndarray, *, rng: np.random.Generator | None = None) -> pd.DataFrame:
        """Model outputs (n, len(inputs)) → event table in physical units, with every condition
        that is not one of its columns as ``condition_<name>``."""
        if array.ndim != 2 or array.shape[1] != len(self.inputs):
            msg = f"inverse expects shape (n, {len(self.inputs)}), found {array.shape}"
            raise HepgenError(msg)
        full = np.empty((len(array), len(self.transform.features)), dtype=array.dtype)
        for j, name in enumerate(self.inputs):
            if name in self.transform.features:
                full[:, self.transform.features.index(name)] = array[:, j]
        table = self.transform.inverse(full, rng=rng)
        asked = self.decode(array[:, len(self.generated) :])
        for name in self.columns:
            if name not in table.columns:
                table[f"{PREFIX}{name}"] = asked[name].to_numpy()
        return table

    def mismatch(self, table: pd.DataFrame) -> dict[str, dict[str, float]]:
        """For every derived condition, how far the generated events' own value lies from the
        one asked for (``condition_<name>``): median and 90 % quantile of |own − asked|, and of
        |own − asked| / |asked|."""
        own = self.physical(
            table.drop(columns=[f"{PREFIX}{n}" for n in self.derived]), self.derived
        )
        out = {}
        for name in self.derived:
            asked = table[f"{PREFIX}{name}"].to_numpy(np.float64)
            gap = np.abs(own[name].to_numpy(np.float64) - asked)
            relative = gap / np.maximum(np.abs(asked), np.finfo(float).tiny)
            out[name] = {
                "median": float(np.nanmedian(gap)),
                "q90": float(np.nanquantile(gap, 0.9)),
                "median_relative": float(np.nanmedian(relative)),
                "q90_relative": float(np.nanquantile(relative, 0.9)),
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "chains": {n: [s.to_dict() for s in chain] for n, chain in self.chains.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], transform: Transform) -> Conditioning:
        chains = {n: [make(s, n) for s in chain] for n, chain in data.get("chains", {}).items()}
        return cls(transform, data["columns"], chains)

    def _check_angles(self) -> None:
        """Refuse an azimuth learned relative to a reference angle as a condition."""
        phi = self.transform.phi
        if phi is None:
            return
        angles = [
            c
            for c in self.columns
            if c.endswith("_phi") and (c in self.transform.features or c == phi.reference)
        ]
        if angles:
            msg = (
                f"conditions {angles} are azimuths learned relative to {phi.reference!r}; "
                "condition on angle differences, or set preprocess.phi to null"
            )
            raise HepgenError(msg)
