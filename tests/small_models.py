"""Small models, events and loop options shared by the training tests."""

from __future__ import annotations

import numpy as np

from hepgen.training import TrainConfig

SMALL = {"latent": 3, "hidden": 16, "layers": 2}
"""Hyperparameters of a VAE small enough to train in a test."""


def correlated_events(
    seed: int = 2, n: int = 640, split: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Correlated Gaussian events in 5 dimensions, float32: (train (split, 5), val (n - split, 5))."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)
    x = x.astype(np.float32)
    return x[:split], x[split:]


def loop_config(**changes: object) -> TrainConfig:
    """CPU loop options for tests: 4 epochs of 64-event batches, selected by validation loss."""
    base = {"epochs": 4, "batch_size": 64, "device": "cpu", "seed": 3, "select_by": "val_loss"}
    return TrainConfig(**{**base, "checkpoint_every": 0, **changes})
