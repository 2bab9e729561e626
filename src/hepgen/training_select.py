"""Best-epoch selection by a distribution distance between generated and validation events."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from hepgen.models.base import GeneratorModule

__all__ = ["MAX_SELECT_EVENTS", "mean_w1", "sample_distance"]

MAX_SELECT_EVENTS = 50_000
"""At most this many validation events (the first ones) enter the selection metric."""
_CHUNK = 65_536


def mean_w1(
    truth: np.ndarray,
    generated: np.ndarray,
    truth_weights: np.ndarray | None = None,
    generated_weights: np.ndarray | None = None,
) -> float:
    """Mean over features of the 1-Wasserstein distance between the marginals.

    ``W1 = integral |F_truth(x) - F_generated(x)| dx`` is evaluated exactly from the merged,
    sorted samples; weights may be negative as long as each sample's total is positive.

    Arguments:
        truth: events, shape (n, d), in transformed space.
        generated: events, shape (m, d).
        truth_weights: shape (n,), or ``None`` for unit weights.
        generated_weights: shape (m,), or ``None``.

    Returns:
        The mean of the d distances, in the units of the features.
    """
    n, m = len(truth), len(generated)
    wa = np.ones(n) if truth_weights is None else np.asarray(truth_weights, dtype=np.float64)
    wb = np.ones(m) if generated_weights is None else np.asarray(generated_weights, np.float64)
    values = np.concatenate([truth, generated]).astype(np.float64)
    signed = np.concatenate([wa / wa.sum(), -wb / wb.sum()])
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    cdf_gap = np.cumsum(signed[order], axis=0)[:-1]
    return float((np.abs(cdf_gap) * np.diff(ordered, axis=0)).sum(axis=0).mean())


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
    model.prepare_sampling(train, weights, seed=seed)
    val = val[:MAX_SELECT_EVENTS]
    generator = torch.Generator(device=val.device).manual_seed(seed)
    chunks = [model.sample(len(c), generator).float() for c in val.split(_CHUNK)]
    generated = torch.cat(chunks).cpu().numpy()
    if not np.isfinite(generated).all():
        return float("nan")
    vw = None if val_weights is None else val_weights[: len(val)].cpu().numpy()
    return mean_w1(val.cpu().numpy(), generated, vw)
