"""Best-epoch selection by a distribution distance between generated and validation events.

The criteria (``training.select_by``) besides the validation loss, all computed on the same
draw of as many generated events as validation events (at most :data:`MAX_SELECT_EVENTS`), in
transformed space, the lowest winning:

* ``metric``: the mean over features of the 1-Wasserstein distance (:func:`mean_w1`);
* ``chi2``: the mean over features of the histogram chi2/ndf (:func:`mean_chi2`), the figure
  by which Lebese picks the best epoch of a GAN;
* ``ks``: the mean over features of the Kolmogorov-Smirnov distance (:func:`mean_ks`);
* ``spearman``: the mean absolute difference of the Spearman rank-correlation matrices
  (:func:`spearman_gap`); ``ks`` and ``spearman`` are Stevenson's comparisons.

The per-feature distances are those of :mod:`hepgen.stats`, which the reported metrics
(:mod:`hepgen.metrics`) use too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule, sample_given
from hepgen.seeds import derive_seed
from hepgen.stats import chi2_ndf_1d, ks_1d, spearman_matrix, wasserstein_1
from hepgen.training.state import Progress

__all__ = [
    "DISTANCES",
    "MAX_SELECT_EVENTS",
    "Criterion",
    "criterion_for",
    "mean_chi2",
    "mean_ks",
    "mean_w1",
    "sample_distance",
    "sampled_distances",
    "select",
    "selection_names",
    "spearman_gap",
]

Criterion = Callable[[GeneratorModule, Mapping[str, float]], float]
"""Scores an epoch from the model and its history row; the lowest score is kept, NaN skipped."""

Distance = Callable[[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None], float]
"""``distance(truth (n, d), generated (m, d), truth_weights (n,), generated_weights (m,))``."""

MAX_SELECT_EVENTS = 50_000
"""At most this many validation events (the first ones) enter the selection metric."""
_CHUNK = 65_536
#: Bins of the chi2 histograms (as :func:`hepgen.metrics.binned.chi2_ndf_1d`).
CHI2_BINS = 40


def mean_w1(
    truth: np.ndarray,
    generated: np.ndarray,
    truth_weights: np.ndarray | None = None,
    generated_weights: np.ndarray | None = None,
) -> float:
    """Mean over features of :func:`hepgen.stats.wasserstein_1` between the marginals.

    Arguments:
        truth: events, shape (n, d), in transformed space.
        generated: events, shape (m, d).
        truth_weights: shape (n,), or ``None`` for unit weights; may be negative.
        generated_weights: shape (m,), or ``None``.

    Returns:
        The mean of the d distances, in the units of the features.
    """
    return float(wasserstein_1(truth, generated, truth_weights, generated_weights).mean())


def mean_ks(
    truth: np.ndarray,
    generated: np.ndarray,
    truth_weights: np.ndarray | None = None,
    generated_weights: np.ndarray | None = None,
) -> float:
    """Mean over features of the two-sample Kolmogorov-Smirnov distance sup_x |F_t - F_g|.

    The (weighted) empirical CDFs are compared at every value of either sample, after all
    events tied at that value. Weights may be negative as long as each sample's total is
    positive (the CDFs are then signed sums, as in :func:`mean_w1`).

    Arguments:
        truth: events, shape (n, d).
        generated: events, shape (m, d).
        truth_weights: shape (n,), or ``None``.
        generated_weights: shape (m,), or ``None``.

    Returns:
        The mean of the d distances, each in [0, 1] for non-negative weights.
    """
    return float(
        np.mean(
            [
                ks_1d(truth[:, j], generated[:, j], truth_weights, generated_weights)
                for j in range(truth.shape[1])
            ]
        )
    )


def mean_chi2(
    truth: np.ndarray,
    generated: np.ndarray,
    truth_weights: np.ndarray | None = None,
    generated_weights: np.ndarray | None = None,
) -> float:
    """Mean over features of the chi2/ndf between normalised histograms of the two samples.

    Binning, per feature, from the truth (validation) events: 40 equal bins between the 0.5 %
    and 99.5 % quantiles, the range cut to at most 5 interquartile ranges beyond the quartiles
    (a narrow peak on a long tail keeps its resolution); one bin per integer where the feature
    takes at most 40 integer values. Under- and overflow are counted in the first and last bin.
    With fractions p_i, q_i of the (weighted) events per bin and their variances
    sum w^2 / (sum w)^2, ``chi2/ndf = sum_i (p_i - q_i)^2 / (var p_i + var q_i) / (k - 1)`` over
    the k bins of nonzero variance; about 1 for two samples of one distribution. Quantiles are
    weighted unless a truth weight is negative. Features with fewer than two filled bins are
    left out of the mean.

    Arguments:
        truth: events, shape (n, d).
        generated: events, shape (m, d).
        truth_weights: shape (n,), or ``None``.
        generated_weights: shape (m,), or ``None``.

    Returns:
        The mean chi2/ndf; NaN when no feature has two filled bins.
    """
    values = [
        chi2_ndf_1d(truth[:, j], generated[:, j], truth_weights, generated_weights, bins=CHI2_BINS)
        for j in range(truth.shape[1])
    ]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def spearman_gap(
    truth: np.ndarray,
    generated: np.ndarray,
    truth_weights: np.ndarray | None = None,
    generated_weights: np.ndarray | None = None,
) -> float:
    """Mean over the d (d - 1) off-diagonal entries of |rho_generated - rho_truth|.

    rho is the (weighted) Spearman rank-correlation matrix: the weighted Pearson correlation
    of mid-ranks counted in units of weight (ties share a rank; a constant feature correlates
    0 with the others). Weights must not be negative.

    Arguments:
        truth: events, shape (n, d).
        generated: events, shape (m, d).
        truth_weights: shape (n,), or ``None``.
        generated_weights: shape (m,), or ``None``.

    Returns:
        A value in [0, 2]; 0 with a single feature.
    """
    d = truth.shape[1]
    if d < 2:
        return 0.0
    gap = np.abs(
        spearman_matrix(generated, generated_weights) - spearman_matrix(truth, truth_weights)
    )
    return float(gap.sum() / (d * (d - 1)))


DISTANCES: dict[str, Distance] = {
    "metric": mean_w1,
    "chi2": mean_chi2,
    "ks": mean_ks,
    "spearman": spearman_gap,
}
"""The sampled selection criteria by ``training.select_by`` name."""


def selection_names(select_by: str) -> tuple[str, ...]:
    """The sampled distances an epoch records: ``metric`` always, and ``select_by``'s own."""
    return ("metric",) if select_by in ("metric", "val_loss") else ("metric", select_by)


def criterion_for(select_by: str, val_weights: np.ndarray | None = None) -> Criterion:
    """The criterion of ``training.select_by``: the history row's ``val_loss`` or distance.

    Arguments:
        select_by: ``"val_loss"`` or a key of :data:`DISTANCES`.
        val_weights: the validation weights (n,), or ``None``; checked before training.

    Raises:
        HepgenError: ``spearman`` with a negative validation weight.
    """
    if select_by != "val_loss" and select_by not in DISTANCES:
        msg = f"training: key 'select_by' must be one of {['val_loss', *DISTANCES]}, found {select_by!r}"
        raise HepgenError(msg)
    if select_by == "spearman" and val_weights is not None:
        negative = int(np.sum(np.asarray(val_weights) < 0))
        if negative:
            msg = (
                f"training: select_by {select_by!r} needs non-negative validation weights, found "
                f"{negative} negative; select by 'metric', 'chi2' or 'ks', which take signed weights"
            )
            raise HepgenError(msg)

    def criterion(model: GeneratorModule, row: Mapping[str, float]) -> float:
        return row[select_by]

    criterion.__doc__ = f"Selection criterion {select_by!r}: the history row's value."
    return criterion


@torch.no_grad()
def sampled_distances(
    model: GeneratorModule,
    train: Tensor,
    val: Tensor,
    names: Sequence[str] = ("metric",),
    *,
    seed: int,
    weights: Tensor | None = None,
    val_weights: Tensor | None = None,
) -> dict[str, float]:
    """Prepare sampling from ``train``, draw as many events as ``val``, return their distances.

    The same ``seed`` at every epoch makes epochs differ only by the model, not by the draw;
    every distance is computed on the one draw.

    Arguments:
        model: the model being trained.
        train: training events (n, d) on the model's device (fills e.g. the B-VAE buffer).
        val: validation events (m, d) on the model's device.
        names: keys of :data:`DISTANCES`.
        seed: seeds the draw.
        weights: training weights (n,), normalised.
        val_weights: validation weights (m,), normalised.

    Returns:
        ``{name: distance}`` in transformed space; all NaN when the model generated NaN/inf.
    """
    model.eval()
    model.prepare_sampling(train, weights, seed=derive_seed(seed, "prepare"))
    val = val[:MAX_SELECT_EVENTS]
    generator = torch.Generator(device=val.device).manual_seed(derive_seed(seed, "draw"))
    # a conditional model is given the validation events' own conditions (its last inputs)
    chunks = [
        sample_given(
            model, len(c), generator, c[:, model.generated :] if model.conditions else None
        ).float()
        for c in val.split(_CHUNK)
    ]
    generated = torch.cat(chunks).cpu().numpy()
    if not np.isfinite(generated).all():
        return dict.fromkeys(names, math.nan)
    vw = None if val_weights is None else val_weights[: len(val)].cpu().numpy()
    truth = val.cpu().numpy()
    return {name: DISTANCES[name](truth, generated, vw, None) for name in names}


def sample_distance(
    model: GeneratorModule,
    train: Tensor,
    val: Tensor,
    *,
    seed: int,
    weights: Tensor | None = None,
    val_weights: Tensor | None = None,
) -> float:
    """:func:`mean_w1` of :func:`sampled_distances`; NaN when the model generated NaN/inf."""
    distances = sampled_distances(
        model, train, val, seed=seed, weights=weights, val_weights=val_weights
    )
    return distances["metric"]


def select(
    model: GeneratorModule, criterion: Criterion, row: Mapping[str, float], progress: Progress
) -> None:
    """Keep the model state when the epoch's ``criterion`` score is the lowest so far."""
    score = criterion(model, row)
    if math.isinf(score):
        msg = f"model type {model.model_type!r}: the selection criterion is {score} at epoch {row['epoch']}"
        raise HepgenError(msg)
    if score < progress.best_score:  # NaN never wins
        progress.best_score, progress.best_epoch = float(score), int(row["epoch"])
        progress.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
