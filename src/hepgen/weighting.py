"""Classifier weights of events from boosted trees held as plain arrays: w = p / (1 − p).

The refine stage (:mod:`hepgen.reweighting`) fits k scikit-learn
``HistGradientBoostingClassifier`` to tell truth (label 1) from generated events (label 0).
This module holds what weighting new events needs, with NumPy only (no scikit-learn), so a
generator file can carry the classifiers as tensors:

- :func:`classifier_inputs`: the inputs the classifiers see, built from an event table; the
  refine stage and the sampling path both use it, so the two cannot drift apart;
- :class:`Trees`: one fitted classifier as node arrays, evaluated by scikit-learn's rules
  (``x <= threshold`` goes left, NaN follows the node's ``missing_go_to_left``);
- :class:`Reweighter`: the k classifiers of one model, its clip and the refine stage's record.

The ratio p / (1 − p) of a classifier trained on balanced classes estimates the density
ratio p_truth / p_gen (Andreassen & Nachman, arXiv:1907.08209; Diefenbacher et al.,
arXiv:2009.03796).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.preprocessing.observables import observables

__all__ = [
    "NODE_ARRAYS",
    "Reweighter",
    "Trees",
    "absent_as_nan",
    "classifier_inputs",
    "trees_from_sklearn",
]

WHAT = "reweighting"
#: Node arrays of :class:`Trees` and their dtypes (all trees' nodes concatenated).
NODE_ARRAYS = {
    "feature": np.int64,
    "threshold": np.float64,
    "missing_left": np.bool_,
    "left": np.int64,
    "right": np.int64,
    "leaf": np.bool_,
    "value": np.float64,
}
#: Node field of scikit-learn's ``TreePredictor.nodes`` behind each array.
_SKLEARN_FIELDS = {
    "feature": "feature_idx",
    "threshold": "num_threshold",
    "missing_left": "missing_go_to_left",
    "left": "left",
    "right": "right",
    "leaf": "is_leaf",
    "value": "value",
}
_OBJECT_COLUMN = re.compile(r"^(?P<object>[A-Za-z_]*?[A-Za-z]\d+)_(?P<field>[A-Za-z]\w*)$")


def absent_as_nan(values: np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """A copy of ``values`` (n, c) with every column of an absent object set to NaN.

    An object ``<name><k>`` is absent in an event where its ``<name><k>_pt`` is 0 (zero
    padding); its columns (``_pt, _eta, _phi, _e`` and fields such as ``_btag``) then hold no
    measurement: the trees route NaN as missing, and per-object metrics compare present
    objects only (:mod:`hepgen.metrics`).
    """
    out = np.array(values, dtype=np.float64, copy=True)
    index = {c: i for i, c in enumerate(columns)}
    for i, column in enumerate(columns):
        match = _OBJECT_COLUMN.match(column)
        if match is None or f"{match['object']}_pt" not in index:
            continue
        out[values[:, index[f"{match['object']}_pt"]] == 0, i] = np.nan
    return out


def classifier_inputs(
    table: pd.DataFrame, features: Sequence[str], *, role: str = "generated"
) -> tuple[np.ndarray, list[str]]:
    """The reweighting classifier's inputs: physical ``features``, then the physics observables.

    Arguments:
        table: n events in physical units (GeV, rad); the ``features`` columns must be finite.
        features: the physical columns (``Transform.columns``).
        role: which events these are, for error messages.

    Returns:
        ``(x (n, d + k), names)``: float64, the columns of absent objects NaN
        (:func:`absent_as_nan`), observables undefined for an event NaN.
    """
    missing = [name for name in features if name not in table.columns]
    if missing:
        msg = f"{WHAT}: the {role} table lacks the feature columns {missing}"
        raise HepgenError(msg)
    values = table[list(features)].to_numpy(np.float64)
    bad = (~np.isfinite(values)).sum(axis=0)
    if bad.any():
        found = ", ".join(
            f"{name!r}: {int(count)} of {len(table)}"
            for name, count in zip(features, bad, strict=True)
            if count
        )
        msg = f"{WHAT}: the {role} events hold NaN or infinite values in columns {found} events"
        raise HepgenError(msg)
    obs = observables(table)
    names = [*features, *obs.columns]
    x = np.column_stack([values, obs.to_numpy(np.float64)]) if len(obs.columns) else values
    return absent_as_nan(x, names), names


@dataclass
class Trees:
    """One fitted binary ``HistGradientBoostingClassifier`` as node arrays.

    The nodes of all trees are concatenated; ``left``/``right`` index the concatenation and
    ``roots`` holds each tree's first node, in boosting order.

    Attributes:
        columns: the input names, in the classifier's column order.
        baseline: the raw score before the first tree (log-odds of the weighted classes).
        nodes: :data:`NODE_ARRAYS` name → array of shape (nodes,).
        roots: (trees,) int64.
    """

    columns: list[str]
    baseline: float
    nodes: dict[str, np.ndarray]
    roots: np.ndarray

    def __post_init__(self) -> None:
        self.nodes = {k: np.asarray(self.nodes[k], dtype=t) for k, t in NODE_ARRAYS.items()}
        self.roots = np.asarray(self.roots, dtype=np.int64)
        size = {len(v) for v in self.nodes.values()}
        if len(size) != 1:
            msg = f"{WHAT}: tree node arrays differ in length: {sorted(size)}"
            raise HepgenError(msg)
        (n,) = size
        inner = ~self.nodes["leaf"]
        children = np.concatenate([self.nodes["left"][inner], self.nodes["right"][inner]])
        bad_feature = self.nodes["feature"][inner]
        if (
            ((self.roots < 0) | (self.roots >= n)).any()
            or ((children < 0) | (children >= n)).any()
            or ((bad_feature < 0) | (bad_feature >= len(self.columns))).any()
        ):
            msg = f"{WHAT}: tree nodes point outside the {n} nodes or {len(self.columns)} inputs"
            raise HepgenError(msg)
        self._lists = [self.nodes[k].tolist() for k in NODE_ARRAYS]  # fast scalar access

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Raw scores (n,): ``baseline`` plus each tree's leaf value, added in boosting order
        as scikit-learn's ``_raw_predict`` adds them.

        Arguments:
            x: (n, len(columns)) float64; NaN is a missing value.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.columns):
            msg = f"{WHAT}: expected inputs of shape (n, {len(self.columns)}), found {x.shape}"
            raise HepgenError(msg)
        columns = [np.ascontiguousarray(x[:, j]) for j in range(x.shape[1])]
        raw = np.zeros(len(x)) + self.baseline
        leaf_values = np.empty(len(x))
        for root in self.roots.tolist():  # tree by tree: sklearn's summation order
            self._descend(root, np.arange(len(x)), columns, leaf_values)
            raw += leaf_values
        return raw

    def _descend(
        self, root: int, rows: np.ndarray, columns: list[np.ndarray], out: np.ndarray
    ) -> None:
        """Route ``rows`` from ``root`` to their leaves, writing each leaf's value into ``out``:
        every node splits the events that reach it (left: ``x <= threshold``, or NaN where
        ``missing_left``)."""
        feature, threshold, missing_left, left, right, leaf, value = self._lists
        stack = [(root, rows)]
        for _ in range(len(leaf) + 1):  # each node is visited at most once
            if not stack:
                return
            node, rows = stack.pop()
            if leaf[node]:
                out[rows] = value[node]
                continue
            x = columns[feature[node]][rows]
            go_left = x <= threshold[node]
            if missing_left[node]:
                go_left |= np.isnan(x)
            stack += [(left[node], rows[go_left]), (right[node], rows[~go_left])]
        msg = f"{WHAT}: the tree nodes form a cycle; the stored trees are corrupt"
        raise HepgenError(msg)

    def proba(self, x: np.ndarray) -> np.ndarray:
        """P(truth | x), (n,): the logistic function of :meth:`raw` (``predict_proba[:, 1]``)."""
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def to_state(self) -> dict[str, Any]:
        """Plain values and NumPy arrays (see :meth:`from_state`)."""
        return {
            "columns": list(self.columns),
            "baseline": float(self.baseline),
            "nodes": dict(self.nodes),
            "roots": self.roots,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Trees:
        """Rebuild from :meth:`to_state` (arrays may be tensors: anything ``np.asarray`` takes)."""
        nodes = {k: np.asarray(state["nodes"][k]) for k in NODE_ARRAYS}
        return cls(
            [str(c) for c in state["columns"]],
            float(state["baseline"]),
            nodes,
            np.asarray(state["roots"]),
        )


def trees_from_sklearn(model: Any, columns: Sequence[str]) -> Trees:
    """The node arrays of a fitted binary ``HistGradientBoostingClassifier`` with labels 0/1.

    Reads the private ``_predictors`` (one ``TreePredictor`` per boosting iteration, its
    ``nodes`` a record array) and ``_baseline_prediction``; refuses what :class:`Trees`
    cannot evaluate (categorical splits, a column preprocessor, more than two classes).

    Arguments:
        model: the fitted classifier.
        columns: the names of its ``n_features_in_`` input columns, in order.
    """
    name = type(model).__name__
    classes = [float(c) for c in getattr(model, "classes_", [])]
    if classes != [0.0, 1.0] or getattr(model, "n_trees_per_iteration_", None) != 1:
        msg = f"{WHAT}: can store only a binary classifier with labels [0, 1]; found {name} with classes {classes}"
        raise HepgenError(msg)
    categorical = getattr(model, "is_categorical_", None)
    if getattr(model, "_preprocessor", None) is not None or (
        categorical is not None and np.any(categorical)
    ):
        msg = (
            f"{WHAT}: cannot store a {name} with categorical features; the trees take numbers only"
        )
        raise HepgenError(msg)
    if model.n_features_in_ != len(columns):
        msg = (
            f"{WHAT}: {name} takes {model.n_features_in_} inputs, found {len(columns)} column names"
        )
        raise HepgenError(msg)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in NODE_ARRAYS}
    roots, offset = [], 0
    for iteration in model._predictors:
        nodes = iteration[0].nodes
        if nodes["is_categorical"].any():
            msg = f"{WHAT}: cannot store a {name} with categorical splits"
            raise HepgenError(msg)
        leaf = nodes["is_leaf"].astype(bool)
        for key, source in _SKLEARN_FIELDS.items():
            values = nodes[source].astype(NODE_ARRAYS[key])
            if key in ("left", "right"):  # leaves have no children: point them at themselves
                values = np.where(leaf, np.arange(len(nodes)), values) + offset
            parts[key].append(values)
        roots.append(offset)
        offset += len(nodes)
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    return Trees(
        list(columns),
        float(baseline[0]),
        {k: np.concatenate(v) if v else np.empty(0, NODE_ARRAYS[k]) for k, v in parts.items()},
        np.asarray(roots, dtype=np.int64),
    )


@dataclass
class Reweighter:
    """The k-fold classifiers of one refined model and how their weights are formed.

    New events are weighted by every fold's classifier: p̄ = mean of the k probabilities
    (soft voting; each fold's classifier estimates the same p(x) from a different (k − 1)/k
    of the generated events, and averaging lowers the variance of the estimate while keeping
    it a probability), then w = min(p̄ / (1 − p̄), clip), multiplied by the events' own
    ``weight`` column where they have one, as at refine time.

    Attributes:
        features: the physical columns the inputs start with (:func:`classifier_inputs`).
        classifiers: one :class:`Trees` per fold.
        clip: the largest ratio (config ``refine.clip`` at refine time).
        norm: mean clipped ratio of the refine stage's generated events (each scored by the
            fold that did not see it): ``ratio / norm`` has mean 1 in expectation.
        record: the refine stage's facts: ``folds``, ``clip``, ``clipped``, ``ess``,
            ``ess_fraction``, ``max_weight``, ``n_truth``, ``n_generated``.
    """

    features: list[str]
    classifiers: list[Trees]
    clip: float
    norm: float
    record: dict[str, Any] = field(default_factory=dict)

    def probability(self, table: pd.DataFrame) -> np.ndarray:
        """p̄ (n,): the mean over the folds of P(truth | event)."""
        x, names = classifier_inputs(table, self.features)
        index = {name: i for i, name in enumerate(names)}
        p = np.zeros(len(table))
        for trees in self.classifiers:
            missing = [c for c in trees.columns if c not in index]
            if missing:
                msg = f"{WHAT}: the events lack the classifier inputs {missing}"
                raise HepgenError(msg)
            p += trees.proba(x[:, [index[c] for c in trees.columns]])
        return p / len(self.classifiers)

    def ratio(self, table: pd.DataFrame) -> np.ndarray:
        """min(p̄ / (1 − p̄), clip) (n,), times the table's ``weight`` column if it has one."""
        p = self.probability(table)
        with np.errstate(divide="ignore"):
            ratio = np.minimum(p / (1.0 - p), self.clip)
        if "weight" in table.columns:
            ratio = ratio * table["weight"].to_numpy(np.float64)
        return ratio

    def to_state(self) -> dict[str, Any]:
        """Plain values and NumPy arrays; a generator file stores the arrays as tensors."""
        return {
            "features": list(self.features),
            "classifiers": [t.to_state() for t in self.classifiers],
            "clip": float(self.clip),
            "norm": float(self.norm),
            "record": dict(self.record),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Reweighter:
        """Rebuild from :meth:`to_state`; a one-line :class:`HepgenError` if it is malformed."""
        try:
            reweighter = cls(
                [str(f) for f in state["features"]],
                [Trees.from_state(t) for t in state["classifiers"]],
                float(state["clip"]),
                float(state["norm"]),
                dict(state.get("record") or {}),
            )
        except (KeyError, TypeError, ValueError) as err:
            msg = f"{WHAT}: malformed reweighter ({type(err).__name__}: {err})"
            raise HepgenError(msg) from err
        if not reweighter.classifiers or not reweighter.clip > 1 or not reweighter.norm > 0:
            msg = (
                f"{WHAT}: a reweighter needs classifiers, clip > 1 and norm > 0; found "
                f"{len(reweighter.classifiers)}, {reweighter.clip}, {reweighter.norm}"
            )
            raise HepgenError(msg)
        return reweighter


REWEIGHTER_FORMAT = "hepgen-reweighter"
"""Value of the ``format`` entry of a reweighter file (:func:`save_reweighter`)."""


def save_reweighter(path: str | os.PathLike, reweighter: Reweighter) -> None:
    """Write the refine stage's classifiers to ``path`` atomically, as a NumPy ``.npz``.

    The arrays of :meth:`Reweighter.to_state` are stored as arrays, everything else as one
    JSON document (no pickles: read with ``allow_pickle=False``), so the refine stage needs
    neither torch nor the model code; packaging puts the same state, as tensors, into the
    generator file.
    """
    arrays: dict[str, np.ndarray] = {}

    def flatten(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = value
            return {"__array__": key}
        if isinstance(value, Mapping):
            return {str(k): flatten(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [flatten(v) for v in value]
        return value

    document = {"format": REWEIGHTER_FORMAT, "version": 1, "state": flatten(reweighter.to_state())}
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, __state__=np.array(json.dumps(document)), **arrays)


def load_reweighter(path: str | os.PathLike) -> Reweighter:
    """Read a file of :func:`save_reweighter`; a one-line :class:`HepgenError` otherwise."""
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as stored:
            document = json.loads(str(stored["__state__"]))
            arrays = {key: stored[key] for key in stored.files if key != "__state__"}
    except (OSError, ValueError, KeyError) as err:
        reason = ": ".join([type(err).__name__, *str(err).strip().splitlines()[:1]])
        msg = f"{name} is not a hepgen reweighter file ({reason})"
        raise HepgenError(msg) from err
    found = document.get("format") if isinstance(document, dict) else type(document).__name__
    if found != REWEIGHTER_FORMAT:
        msg = f"{name}: expected format {REWEIGHTER_FORMAT!r}, found {found!r}"
        raise HepgenError(msg)

    def unflatten(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        if isinstance(value, dict):
            return {k: unflatten(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unflatten(v) for v in value]
        return value

    return Reweighter.from_state(unflatten(document["state"]))
