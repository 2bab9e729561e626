"""Judge generated events against the test split, each metric beside its truth-vs-truth floor."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hepgen.metrics.classifier import MIN_EVENTS_PER_HALF, classifier_auc
from hepgen.metrics.inputs import as_table, check_events, check_finite, column_weights
from hepgen.metrics.wasserstein import w1_distances
from hepgen.runtime import HepgenError, atomic_path

__all__ = ["evaluate", "summary", "write_metrics"]

log = logging.getLogger(__name__)
METRIC = "evaluate (W1, classifier AUC)"


def evaluate(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: list[str],
    seed: int,
    classifier: Mapping[str, Any] | None = None,
    weights_column: str | None = "weight",
) -> dict[str, Any]:
    """Compare generated events with the truth and with itself (the floor), metric by metric.

    The truth is split into two disjoint random halves A and B. Each metric's ``value``
    compares A with a random subsample of the generated events of the size of B; its
    ``floor`` compares A with B the same way, so it is what a perfect generator would score
    with this many events (Kansal et al., arXiv:2211.10295). If fewer generated events than
    ``len(B)`` exist, B is subsampled to the same size, so value and floor stay comparable.

    Arguments:
        truth: the test split event table, ``n`` rows, physical units.
        generated: the generated event table, ``m`` rows, physical units.
        features: columns to compare (``Transform.features``).
        seed: seeds the halves, the subsample and the classifier.
        classifier: ``{"max_iter": int, ...}`` for the classifier (config key
            ``evaluate.classifier``); ``None`` uses the defaults.
        weights_column: per-event weight column, used for a table that has it; ``None``
            ignores weights.

    Returns:
        ``{"n_truth", "n_generated", "n_compared", "w1": {"features": {name: {"value",
        "floor"}}, "mean": {"value", "floor"}}, "auc": {"value", "floor"}}`` of plain
        ints and floats; W1 is in units of the truth's standard deviation.
    """
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    generated_table = as_table(generated, features=features, metric=METRIC, role="generated")
    check_finite(truth_table, metric=METRIC, role="truth")
    check_finite(generated_table, metric=METRIC, role="generated")
    per_half = 2 * MIN_EVENTS_PER_HALF
    check_events(
        len(truth_table), 2 * per_half, metric=METRIC, role=f"truth (two halves of {per_half})"
    )
    check_events(len(generated_table), per_half, metric=METRIC, role="generated")
    w_truth, w_generated = column_weights(truth, generated, weights_column, metric=METRIC)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(truth_table))
    half_a, half_b = order[: (len(order) + 1) // 2], order[(len(order) + 1) // 2 :]
    n_compared = min(len(half_b), len(generated_table))
    half_b = half_b[:n_compared]
    pick = np.sort(rng.permutation(len(generated_table))[:n_compared])
    clf_seed = int(rng.integers(2**31 - 1))
    if n_compared < len(order) - len(half_a):
        log.info(
            "%d generated events < half of the truth; the floor uses %d truth events",
            n_compared,
            n_compared,
        )

    a = _subset(truth_table, w_truth, half_a)
    comparisons = {
        "value": _subset(generated_table, w_generated, pick),
        "floor": _subset(truth_table, w_truth, half_b),
    }
    options = dict(classifier or {})
    max_iter = options.pop("max_iter", 100)
    w1 = {key: w1_distances(a[0], other[0], (a[1], other[1])) for key, other in comparisons.items()}
    auc = {
        key: classifier_auc(
            a[0], other[0], (a[1], other[1]), seed=clf_seed, max_iter=max_iter, options=options
        )
        for key, other in comparisons.items()
    }
    return {
        "n_truth": len(truth_table),
        "n_generated": len(generated_table),
        "n_compared": int(n_compared),
        "w1": {
            "features": {
                name: {key: w1[key][name] for key in ("value", "floor")} for name in features
            },
            "mean": {key: float(np.mean(list(w1[key].values()))) for key in ("value", "floor")},
        },
        "auc": auc,
    }


def _subset(
    table: pd.DataFrame, weights: np.ndarray | None, index: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray | None]:
    rows = table.iloc[index].reset_index(drop=True)
    return rows, None if weights is None else weights[index]


def summary(metrics: Mapping[str, Any]) -> str:
    """One log line: AUC and mean W1, each with its floor.

    Arguments:
        metrics: an :func:`evaluate` result.

    Returns:
        e.g. ``"AUC 0.612 (floor 0.503), mean W1/sigma 0.0412 (floor 0.0120), 4000 events"``.
    """
    auc, w1 = metrics["auc"], metrics["w1"]["mean"]
    return (
        f"AUC {auc['value']:.3f} (floor {auc['floor']:.3f}), mean W1/sigma {w1['value']:.4f} "
        f"(floor {w1['floor']:.4f}), {metrics['n_compared']} events compared"
    )


def write_metrics(path: str | os.PathLike, metrics: Mapping[str, Any]) -> None:
    """Write a metrics record as JSON, atomically; NaN or infinity is refused.

    Arguments:
        path: output ``.json`` path.
        metrics: plain JSON values (an :func:`evaluate` result plus labels and provenance).
    """
    try:
        text = json.dumps(metrics, indent=2, allow_nan=False)
    except ValueError as error:
        msg = f"metrics for {path} hold NaN or infinity and cannot be written as JSON ({error})"
        raise HepgenError(msg) from error
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
