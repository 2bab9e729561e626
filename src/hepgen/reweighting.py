"""Classifier reweighting of generated events: w(x) = p(x) / (1 − p(x)), p = P(truth | x).

A classifier trained to tell truth (label 1) from generated events (label 0) on balanced
classes estimates p(x) = p_truth(x) / (p_truth(x) + p_gen(x)), so w = p / (1 − p) is the
density ratio p_truth / p_gen that turns the generated distribution into the truth's
(Andreassen & Nachman, DCTR, arXiv:1907.08209; as a refinement of generative models
Diefenbacher et al., arXiv:2009.03796, and Butter et al., arXiv:2305.10475).

Only generated events are weighted, and each by a classifier that did not see it: the
generated events are split into k folds, and the classifier that weights fold i is fitted on
the truth and the other k − 1 folds. The truth is the validation split, never the test
split (the evaluation judges the weighted sample on it) and never the training split (a
model that copies training events would otherwise be rewarded).

:func:`fit_reweighter` also returns the k classifiers as plain arrays
(:class:`hepgen.weighting.Reweighter`): the generator file of a refined model carries them and
weights the events it draws with every fold's classifier (none of them saw those events).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.metrics.classifier import make_classifier
from hepgen.metrics.inputs import column_weights
from hepgen.weighting import Reweighter, classifier_inputs, trees_from_sklearn

__all__ = ["DEFAULTS", "effective_sample_size", "fit_reweighter", "refine_options", "reweight"]

log = logging.getLogger(__name__)
WHAT = "reweighting"
#: Options of the reweighting (config key ``refine``; a model's ``refine`` mapping overrides).
DEFAULTS: dict[str, Any] = {"folds": 5, "clip": 20.0, "classifier": {"max_iter": 200}}


def refine_options(section: Mapping[str, Any] | None, entry: Any) -> dict[str, Any] | None:
    """The reweighting options of one model, or ``None`` when it is not refined.

    Arguments:
        section: the config's ``refine`` section (defaults for every refined model).
        entry: the model entry's ``refine``: ``true``, ``false``/absent, or a mapping of keys
            that override the section's.

    Returns:
        ``{"folds": int >= 2, "clip": float > 1, "classifier": {...}}`` or ``None``.
    """
    if entry is None or entry is False:
        return None
    base = {**DEFAULTS, **dict(section or {})}
    options = {**base, **(dict(entry) if isinstance(entry, Mapping) else {})}
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        msg = f"config refine: unknown key(s) {unknown}; known keys are {sorted(DEFAULTS)}"
        raise HepgenError(msg)
    folds, clip = options["folds"], options["clip"]
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise HepgenError(f"config refine.folds must be an integer >= 2, found {folds!r}")
    if isinstance(clip, bool) or not isinstance(clip, int | float) or not clip > 1:
        raise HepgenError(f"config refine.clip must be a number > 1, found {clip!r}")
    if not isinstance(options["classifier"], Mapping):
        msg = f"config refine.classifier must be a mapping, found {options['classifier']!r}"
        raise HepgenError(msg)
    return {"folds": folds, "clip": float(clip), "classifier": dict(options["classifier"])}


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of weights of shape (n,)."""
    weights = np.asarray(weights, dtype=np.float64)
    return float(weights.sum() ** 2 / np.sum(weights**2))


def reweight(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    seed: int,
    folds: int = 5,
    clip: float = 20.0,
    classifier: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-event weights of the generated events, mean 1, from k-fold classifiers.

    The weights and record of :func:`fit_reweighter`, without the classifiers.
    """
    weights, info, _ = fit_reweighter(
        truth, generated, features=features, seed=seed, folds=folds, clip=clip,
        classifier=classifier,
    )  # fmt: skip
    return weights, info


def fit_reweighter(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    seed: int,
    folds: int = 5,
    clip: float = 20.0,
    classifier: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, Any], Reweighter]:
    """Per-event weights of the generated events, mean 1, and the k fitted classifiers.

    The classifier (:func:`hepgen.metrics.classifier.make_classifier`, boosted trees) sees
    the physical ``features`` and the physics observables of each event, with absent objects'
    columns missing (:func:`hepgen.weighting.classifier_inputs`), as the evaluation's
    two-sample test does. Truth events keep their ``weight`` column (if any) and, as a class,
    the total weight of the generated events the fold is fitted on, so that p / (1 − p)
    needs no correction for the class sizes.

    Arguments:
        truth: the validation split, physical units, ``n`` rows.
        generated: generated events, physical units, ``m`` rows (all usable: finite and
            inside the transform's support).
        features: the physical columns (``Transform.columns``).
        seed: seeds the folds and the classifiers.
        folds: k (>= 2).
        clip: the largest weight before normalisation; larger ones are set to it and counted.
        classifier: ``HistGradientBoostingClassifier`` options, ``max_iter`` among them.

    Returns:
        ``(weights (m,), info, reweighter)``: finite weights >= 0 with mean 1; ``{"folds",
        "clip", "clipped", "ess", "ess_fraction", "max_weight", "n_truth", "n_generated"}``;
        and the k classifiers as a :class:`hepgen.weighting.Reweighter` that weights new
        events (every fold's classifier, probabilities averaged).
    """
    if len(generated) < 2 * folds or len(truth) < 2 * folds:
        msg = (
            f"{WHAT}: needs at least {2 * folds} truth and generated events for {folds} folds, "
            f"found {len(truth)} truth and {len(generated)} generated events"
        )
        raise HepgenError(msg)
    x_truth, names = classifier_inputs(truth, features, role="truth (validation split)")
    x_gen, gen_names = classifier_inputs(generated, features, role="generated")
    keep = [i for i, name in enumerate(names) if name in gen_names]
    names = [names[i] for i in keep]
    x_truth = x_truth[:, keep]
    x_gen = x_gen[:, [gen_names.index(name) for name in names]]
    w_truth, w_gen = column_weights(truth, generated, "weight", metric=WHAT)
    w_truth = np.ones(len(truth)) if w_truth is None else w_truth
    w_gen = np.ones(len(generated)) if w_gen is None else w_gen
    options = dict(classifier or {})
    max_iter = options.pop("max_iter", 200)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(generated)) % folds
    p = np.empty(len(generated))
    fitted = []
    for k in range(folds):
        fit = fold != k
        balance = w_gen[fit].sum() / w_truth.sum()
        x = np.concatenate([x_truth, x_gen[fit]])
        y = np.concatenate([np.ones(len(x_truth)), np.zeros(int(fit.sum()))])
        w = np.concatenate([w_truth * balance, w_gen[fit]])
        informative = ~np.isnan(x).all(axis=0)
        model = make_classifier(
            seed=int(rng.integers(2**31 - 1)), max_iter=max_iter, options=options
        )
        model.fit(x[:, informative], y, sample_weight=w)
        p[~fit] = model.predict_proba(x_gen[~fit][:, informative])[:, 1]
        columns = [name for name, used in zip(names, informative, strict=True) if used]
        fitted.append(trees_from_sklearn(model, columns))
    with np.errstate(divide="ignore"):
        ratio = p / (1.0 - p)
    clipped = int(np.count_nonzero(ratio > clip))
    weights = np.minimum(ratio, clip) * w_gen
    if not weights.sum() > 0:
        msg = (
            f"{WHAT}: every generated event got weight 0 (the classifier finds no truth-like event)"
        )
        raise HepgenError(msg)
    norm = float(weights.mean())
    weights = weights / norm
    ess = effective_sample_size(weights)
    info = {
        "folds": folds,
        "clip": clip,
        "clipped": clipped,
        "ess": ess,
        "ess_fraction": ess / len(weights),
        "max_weight": float(weights.max()),
        "n_truth": len(truth),
        "n_generated": len(generated),
    }
    log.info(
        "reweighted %d events with %d-fold classifiers: %d clipped at %g, effective sample size "
        "%.0f (%.1f %%)", len(weights), folds, clipped, clip, ess, 100 * info["ess_fraction"],
    )  # fmt: skip
    reweighter = Reweighter(list(features), fitted, float(clip), norm, dict(info))
    return weights, info, reweighter
