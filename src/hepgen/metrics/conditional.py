"""Per-condition evaluation of a conditional generator: feature W1 in bins of each condition.

A conditional model learns p(features | condition); its sample table holds the condition
columns of the test split next to the generated features. Comparing marginals over all events
can hide a model that ignores its condition (the condition's own distribution is copied from
the truth), so for each condition column the events are binned in truth quantiles of it and,
in every bin, each feature's 1-Wasserstein distance in units of the truth's standard deviation
in that bin (``W1 / sigma_truth``, :func:`hepgen.metrics.wasserstein.w1_replicas`, as the
evaluate stage reports per feature; Kansal et al., arXiv:2211.10295) is set beside its
truth-vs-truth floor in the same bin. As in :func:`hepgen.metrics.evaluate`, the truth rows of a
bin are split into disjoint random halves A and B; the value compares A with as many generated
rows of the bin as B holds, the floor compares A with B, so both see samples of the same size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.metrics.bootstrap import resamples
from hepgen.metrics.inputs import as_table, check_finite, column_weights
from hepgen.metrics.marginals import MIN_DEFINED, Sample, compare_marginals
from hepgen.metrics.response import json_ready, weighted_quantiles
from hepgen.metrics.wasserstein import w1_replicas
from hepgen.weighting import absent_as_nan

__all__ = ["condition_edges", "conditional_w1"]

METRIC = "conditional W1"


def condition_edges(values: np.ndarray, weights: np.ndarray | None, bins: int) -> np.ndarray:
    """Edges of ``bins`` bins of equal (weighted) truth population; repeated quantiles merged.

    Arguments:
        values: the truth's condition column, shape ``(n,)``.
        weights: shape ``(n,)`` or ``None``.
        bins: number of bins asked for.

    Returns:
        Increasing edges, at most ``bins + 1``; the first and last are the truth's extremes.
        A condition with at most ``bins`` distinct values (a multiplicity, a flag) gets one
        bin per value, split at the midpoints; a constant one gets the single edge ``[v]``.
    """
    distinct = np.unique(values)
    if len(distinct) == 1:
        return distinct
    if len(distinct) <= bins:
        middles = 0.5 * (distinct[1:] + distinct[:-1])
        return np.concatenate([distinct[:1], middles, distinct[-1:]])
    levels = np.linspace(0.0, 1.0, bins + 1)
    edges = weighted_quantiles(values, weights, np.ones((1, len(values))), levels)[0]
    edges[0], edges[-1] = np.min(values), np.max(values)
    return np.unique(edges)


def conditional_w1(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    conditions: Sequence[str],
    features: Sequence[str],
    seed: int,
    bins: int = 5,
    bootstrap: int = 20,
    weights_column: str | None = "weight",
) -> dict[str, Any]:
    """Per-feature ``W1 / sigma_truth`` and its floor in truth-quantile bins of each condition.

    Every row is put in the bin of its own condition value, on the truth's edges (generated
    rows beyond the truth's range go to the first or last bin). Columns of an absent object
    (``<name><k>_pt == 0``) are left out of that object's distances, as in the evaluate stage.

    Arguments:
        truth: the test split, ``n`` rows with the condition and feature columns.
        generated: the generated table, ``m`` rows with the same columns.
        conditions: the condition columns.
        features: the generated feature columns (condition columns among them are dropped).
        seed: seeds the halves, the subsamples and the resamples.
        bins: truth-quantile bins per condition.
        bootstrap: resamples behind each ``err`` and ``floor_err``.
        weights_column: per-row weight column, used for a table that has it; ``None`` ignores
            weights.

    Returns:
        JSON-ready ``{"bins": bins, "features": [...], "conditions": {name: {"edges": [...],
        "bins": [{"low", "high", "n_truth", "n_generated", "n_compared", "w1": {"features":
        {feature: E}, "mean": E, "skipped": [...]}}], "mean": {"value", "floor"}}}}`` where each
        E is ``{"value", "err", "floor", "floor_err"}`` (``null`` where undefined: a bin needs
        ``2 * MIN_DEFINED`` truth rows and ``MIN_DEFINED`` generated rows; ``mean`` and
        ``skipped`` as in :meth:`hepgen.metrics.marginals.MarginalResult.family`). A
        condition's ``mean`` averages the bins' mean W1 value and floor.
    """
    conditions = list(conditions)
    features = [name for name in features if name not in conditions]
    if not conditions:
        raise HepgenError(f"{METRIC}: no condition columns given")
    if not features:
        msg = f"{METRIC}: no feature columns besides the conditions {conditions} to compare"
        raise HepgenError(msg)
    if bins < 1:
        raise HepgenError(f"{METRIC}: bins must be >= 1, found {bins}")
    if bootstrap < 2:
        raise HepgenError(f"{METRIC}: bootstrap must be >= 2 resamples, found {bootstrap}")
    for role, table in (("truth", truth), ("generated", generated)):
        missing = [name for name in conditions if name not in table.columns]
        if missing:
            msg = (
                f"{METRIC}: the {role} table lacks the condition columns {missing} (the "
                f"model's condition); it has {list(table.columns)}"
            )
            raise HepgenError(msg)
    columns = [*conditions, *features]
    tables = {}
    for role, table in (("truth", truth), ("generated", generated)):
        tables[role] = as_table(table, features=columns, metric=METRIC, role=role)
        check_finite(tables[role], metric=METRIC, role=role)
    weights = dict(
        zip(
            ("truth", "generated"),
            column_weights(truth, generated, weights_column, metric=METRIC),
            strict=True,
        )
    )
    values = {role: absent_as_nan(tables[role][features].to_numpy(), features) for role in tables}

    out: dict[str, Any] = {"bins": bins, "features": features, "conditions": {}}
    for c, name in enumerate(conditions):
        rng = np.random.default_rng([seed, 21, c])
        where = {role: tables[role][name].to_numpy() for role in tables}
        edges = condition_edges(where["truth"], weights["truth"], bins)
        index = {role: _bin(where[role], edges) for role in tables}
        rows = []
        for k in range(max(len(edges) - 1, 1)):
            picked = {role: np.flatnonzero(index[role] == k) for role in tables}
            rows.append(
                {
                    "low": edges[k],
                    "high": edges[min(k + 1, len(edges) - 1)],
                    **_compare(picked, values, weights, features, rng, bootstrap),
                }
            )
        means = [r["w1"].get("mean") for r in rows if r["w1"].get("mean")]
        out["conditions"][name] = {
            "edges": edges.tolist(),
            "bins": rows,
            "mean": {
                key: float(np.mean([m[key] for m in means])) if means else None
                for key in ("value", "floor")
            },
        }
    return json_ready(out)


def _bin(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on ``edges``, values beyond them in the end bins."""
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(len(edges) - 2, 0))


def _compare(
    picked: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
    weights: dict[str, np.ndarray | None],
    features: list[str],
    rng: np.random.Generator,
    bootstrap: int,
) -> dict[str, Any]:
    """The W1 entries of one bin: truth half A vs generated (value) and vs half B (floor)."""
    rows_truth, rows_generated = picked["truth"], picked["generated"]
    order = rng.permutation(rows_truth)
    half_a, half_b = order[: (len(order) + 1) // 2], order[(len(order) + 1) // 2 :]
    n_compared = min(len(half_b), len(rows_generated))
    half_b = half_b[:n_compared]
    chosen = rng.permutation(rows_generated)[:n_compared]
    counts = {
        "n_truth": len(rows_truth),
        "n_generated": len(rows_generated),
        "n_compared": int(n_compared),
    }
    if n_compared < MIN_DEFINED:
        return {**counts, "w1": {"features": {}, "skipped": list(features)}}

    def sample(role: str, rows: np.ndarray) -> Sample:
        w = weights[role]
        return Sample(values[role][rows], None if w is None else w[rows])

    a = sample("truth", half_a)
    others = {"value": sample("generated", chosen), "floor": sample("truth", half_b)}
    indices = {key: resamples(rng, len(half_a), n_compared, bootstrap) for key in others}
    result = compare_marginals(a, others, features, {"w1": w1_replicas}, indices=indices)
    return {**counts, "w1": result.family("w1", {"features": features})}
