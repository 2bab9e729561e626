"""Best-epoch selection by a distribution distance between generated and validation events."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule
from hepgen.seeds import derive_seed
from hepgen.stats import wasserstein_1
from hepgen.training.state import Progress

__all__ = ["MAX_SELECT_EVENTS", "Criterion", "mean_w1", "sample_distance", "select"]

Criterion = Callable[[GeneratorModule, Mapping[str, float]], float]
"""Scores an epoch from the model and its history row; the lowest score is kept, NaN skipped."""

MAX_SELECT_EVENTS = 50_000
"""At most this many validation events (the first ones) enter the selection metric."""
_CHUNK = 65_536


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


@torch.no_grad()
def sample_distance(
    model: GeneratorModule,
    train: Tensor,
    val: Tensor,
    *,
    seed: int,
    weights: Tensor | None = None,
    val_weights: Tensor | None = None,
) -> float:
    """Prepare sampling from ``train``, draw as many events as ``val`` and return their distance.

    The same ``seed`` at every epoch makes epochs differ only by the model, not by the draw.

    Arguments:
        model: the model being trained.
        train: training events (n, d) on the model's device (fills e.g. the B-VAE buffer).
        val: validation events (m, d) on the model's device.
        seed: seeds the draw.
        weights: training weights (n,), normalised.
        val_weights: validation weights (m,), normalised.

    Returns:
        :func:`mean_w1` in transformed space; NaN when the model generated NaN/inf.
    """
    model.eval()
    model.prepare_sampling(train, weights, seed=derive_seed(seed, "prepare"))
    val = val[:MAX_SELECT_EVENTS]
    generator = torch.Generator(device=val.device).manual_seed(derive_seed(seed, "draw"))
    chunks = [model.sample(len(c), generator).float() for c in val.split(_CHUNK)]
    generated = torch.cat(chunks).cpu().numpy()
    if not np.isfinite(generated).all():
        return float("nan")
    vw = None if val_weights is None else val_weights[: len(val)].cpu().numpy()
    return mean_w1(val.cpu().numpy(), generated, vw)


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
