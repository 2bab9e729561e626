"""Classifier two-sample test: ROC AUC of boosted trees separating truth from generated."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights

__all__ = [
    "MIN_EVENTS_PER_HALF",
    "auc_bootstrap_error",
    "classifier_auc",
    "classifier_test",
    "make_classifier",
]

METRIC = "classifier AUC"
#: Events of each class in each half (training and scoring) the test needs.
MIN_EVENTS_PER_HALF = 20
#: A column (e.g. an observable most events lack) needs this many fitted events with a value:
#: early stopping holds back a random 20 % of the fit, and a column with no value left in the
#: rest cannot be binned (the chance that all 20 land there is 0.2^20 ≈ 1e-14).
MIN_VALUES_PER_COLUMN = 20

log = logging.getLogger(__name__)


def make_classifier(
    *, seed: int, max_iter: int = 100, options: Mapping[str, Any] | None = None
) -> HistGradientBoostingClassifier:
    """Build the seeded two-sample classifier.

    Arguments:
        seed: random state of the classifier.
        max_iter: boosting iterations.
        options: further ``HistGradientBoostingClassifier`` parameters (config key
            ``evaluate.classifier``). By default 20 % of the fitting half is held back for
            seeded early stopping, which keeps the trees from fitting statistical noise.

    Returns:
        An unfitted classifier.
    """
    params: dict[str, Any] = {
        "max_iter": int(max_iter),
        "early_stopping": True,
        "validation_fraction": 0.2,
    }
    options = dict(options or {})
    known = set(HistGradientBoostingClassifier().get_params()) - {"random_state"}
    unknown = sorted(set(options) - known)
    if unknown:
        msg = (
            f"{METRIC}: unknown classifier options {unknown} (config key evaluate.classifier); "
            f"HistGradientBoostingClassifier accepts {sorted(known)}"
        )
        raise HepgenError(msg)
    params.update(options)
    return HistGradientBoostingClassifier(random_state=seed, **params)


def classifier_auc(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    seed: int = 0,
    max_iter: int = 100,
    options: Mapping[str, Any] | None = None,
    allow_missing: bool = False,
) -> float:
    """ROC AUC of a classifier trained to tell generated (label 1) from truth (label 0).

    The larger sample is subsampled at random to the size of the smaller; each class is split
    into two random halves, the classifier is fitted on one and scored on the other
    (Lopez-Paz & Oquab, arXiv:1610.06545). AUC = 0.5 means the classifier cannot tell the
    samples apart; 1 means it separates them perfectly.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)`` of shapes ``(n,)`` and ``(m,)``;
            used as ``sample_weight`` in the fit (each class scaled to equal total weight)
            and in the AUC.
        features: classifier inputs; ``None`` takes every column of ``truth``.
        seed: seeds the subsampling, the split and the classifier.
        max_iter: most boosting iterations (early stopping may end sooner).
        options: further ``HistGradientBoostingClassifier`` parameters, see
            :func:`make_classifier`.
        allow_missing: accept NaN (an observable undefined for an event, e.g. m_jj without
            two jets); the trees treat it as missing. Infinite values are always refused.

    Returns:
        The ROC AUC on the held-out halves, in ``[0, 1]``.
    """
    y, score, w = _fit_and_score(
        truth, generated, weights, features, seed, max_iter, options, allow_missing
    )
    return float(roc_auc_score(y, score, sample_weight=w))


def classifier_test(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights = None,
    *,
    features: Sequence[str] | None = None,
    seed: int = 0,
    max_iter: int = 100,
    options: Mapping[str, Any] | None = None,
    allow_missing: bool = False,
    bootstrap: int = 30,
) -> tuple[float, float]:
    """:func:`classifier_auc` and its statistical uncertainty.

    The uncertainty is the standard deviation of the AUC over ``bootstrap`` resamples of the
    scored events (each class resampled with replacement); the classifier is not refitted.

    Arguments:
        truth: reference events, table or array of shape ``(n, d)``.
        generated: generated events, table or array of shape ``(m, d)``.
        weights: ``(truth_weights, generated_weights)``, see :func:`classifier_auc`.
        features: classifier inputs; ``None`` takes every column of ``truth``.
        seed: seeds the subsampling, the split, the classifier and the resamples.
        max_iter: most boosting iterations.
        options: further ``HistGradientBoostingClassifier`` parameters.
        allow_missing: accept NaN as missing values.
        bootstrap: number of resamples (>= 2).

    Returns:
        ``(AUC, uncertainty)``.
    """
    y, score, w = _fit_and_score(
        truth, generated, weights, features, seed, max_iter, options, allow_missing
    )
    auc = float(roc_auc_score(y, score, sample_weight=w))
    rng = np.random.default_rng([seed, 1])
    return auc, auc_bootstrap_error(y, score, w, bootstrap=bootstrap, rng=rng)


def auc_bootstrap_error(
    y: np.ndarray, score: np.ndarray, w: np.ndarray, *, bootstrap: int, rng: np.random.Generator
) -> float:
    """Standard deviation of the ROC AUC over class-wise resamples with replacement.

    Arguments:
        y: labels 0/1, shape ``(n,)``.
        score: classifier scores, shape ``(n,)``.
        w: event weights, shape ``(n,)``.
        bootstrap: number of resamples (>= 2).
        rng: the random source.

    Returns:
        The uncertainty of the AUC.
    """
    if bootstrap < 2:
        msg = (
            f"{METRIC}: needs at least 2 bootstrap resamples for an uncertainty, found {bootstrap}"
        )
        raise HepgenError(msg)
    classes = [np.flatnonzero(y == label) for label in (0, 1)]
    values = []
    for _ in range(bootstrap):
        pick = np.concatenate([c[rng.integers(0, len(c), len(c))] for c in classes])
        values.append(roc_auc_score(y[pick], score[pick], sample_weight=w[pick]))
    return float(np.std(values, ddof=1))


def _fit_and_score(
    truth: pd.DataFrame | ArrayLike,
    generated: pd.DataFrame | ArrayLike,
    weights: Weights,
    features: Sequence[str] | None,
    seed: int,
    max_iter: int,
    options: Mapping[str, Any] | None,
    allow_missing: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit on one half of each class; return labels, scores and weights of the other halves."""
    truth_table = as_table(truth, features=features, metric=METRIC, role="truth")
    columns = list(truth_table.columns)
    generated_table = as_table(generated, features=columns, metric=METRIC, role="generated")
    needed = 2 * MIN_EVENTS_PER_HALF
    for role, table in (("truth", truth_table), ("generated", generated_table)):
        check_finite(table, metric=METRIC, role=role, allow_nan=allow_missing)
        check_events(
            len(table), needed, metric=METRIC, role=f"{role} (two halves of {MIN_EVENTS_PER_HALF})"
        )
    w_truth, w_generated = pair_weights(
        weights, len(truth_table), len(generated_table), metric=METRIC
    )
    rng = np.random.default_rng(seed)
    n = min(len(truth_table), len(generated_table))
    parts = [
        _halves(table.to_numpy(), w, n, rng, metric_role=role)
        for role, table, w in (
            ("truth", truth_table, w_truth),
            ("generated", generated_table, w_generated),
        )
    ]
    (x0_fit, w0_fit, x0_test, w0_test), (x1_fit, w1_fit, x1_test, w1_test) = parts
    x_fit = np.concatenate([x0_fit, x1_fit])
    # A column missing in (nearly) every fitted event (e.g. m_jj of a sample without two jets)
    # carries no information, and sklearn cannot bin it: leave it out of the fit and the scores.
    informative = (~np.isnan(x_fit)).sum(axis=0) >= MIN_VALUES_PER_COLUMN
    if not informative.all():
        log.info(
            "%s: %d of %d columns have fewer than %d fitted events with a value and are left "
            "out of the classifier: %s",
            METRIC,
            int((~informative).sum()),
            len(informative),
            MIN_VALUES_PER_COLUMN,
            [str(c) for c in truth_table.columns[~informative]],
        )
    x_fit = x_fit[:, informative]
    y_fit = np.concatenate([np.zeros(len(x0_fit)), np.ones(len(x1_fit))])
    w_fit = np.concatenate([w0_fit / w0_fit.mean(), w1_fit / w1_fit.mean()])
    model = make_classifier(seed=seed, max_iter=max_iter, options=options)
    # Equal weights fit the same trees as none, but sklearn's weighted binning is far slower.
    uniform = bool(np.all(w_fit == w_fit[0]))
    model.fit(x_fit, y_fit, sample_weight=None if uniform else w_fit)
    x_test = np.concatenate([x0_test, x1_test])[:, informative]
    y_test = np.concatenate([np.zeros(len(x0_test)), np.ones(len(x1_test))])
    return y_test, model.predict_proba(x_test)[:, 1], np.concatenate([w0_test, w1_test])


def _halves(
    x: np.ndarray, w: np.ndarray | None, n: int, rng: np.random.Generator, *, metric_role: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` events without replacement and split them into a fit half and a test half."""
    w = np.ones(len(x)) if w is None else w
    pick = rng.permutation(len(x))[:n]
    fit, test = pick[: n // 2], pick[n // 2 :]
    for name, index in (("fitting", fit), ("scoring", test)):
        if not w[index].sum() > 0:
            msg = f"{METRIC}: the {metric_role} events chosen for {name} all have zero weight"
            raise HepgenError(msg)
    return x[fit], w[fit], x[test], w[test]
