"""Tests for the Bayesian Gaussian mixtures on events and on latent codes (Balanzá García)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.bgmm import BGMM, VAEBGMM, GaussianMixture
from hepgen.training import TrainConfig, train_model

CONFIG = TrainConfig(epochs=2, batch_size=64, device="cpu", seed=2, checkpoint_every=0)


def _two_clusters(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal([-3.0, 0.0], 0.5, size=(n // 4, 2))
    b = rng.normal([2.0, 1.0], [1.0, 0.3], size=(n - n // 4, 2))
    return np.concatenate([a, b]).astype(np.float32)


def test_mixture_recovers_cluster_fractions_and_samples_them() -> None:
    x = _two_clusters(2000)
    model = build("bgmm", 2, {"components": 5, "max_iter": 200})
    assert isinstance(model, BGMM)
    history = train_model(model, x, _two_clusters(400, seed=1), CONFIG)
    assert len(history) == 1 and history[0]["val_nll"] < 3.0
    gen = model.sample(20000, torch.Generator().manual_seed(0)).numpy()
    assert np.mean(gen[:, 0] < -0.5) == pytest.approx(0.25, abs=0.02)
    assert gen[gen[:, 0] > -0.5].std(axis=0) == pytest.approx([1.0, 0.3], rel=0.1)


def test_weights_resample_the_events() -> None:
    x = _two_clusters(2000)
    weights = np.where(x[:, 0] < -0.5, 0.0, 1.0)  # the left cluster carries no weight
    model = build("bgmm", 2, {"components": 4, "max_iter": 200})
    train_model(model, x, x[:200], CONFIG, weights=weights)
    gen = model.sample(5000, torch.Generator().manual_seed(0)).numpy()
    assert np.mean(gen[:, 0] < -0.5) < 0.01


def test_empty_mixture_refuses_to_sample() -> None:
    with pytest.raises(HepgenError, match="no fitted Gaussian mixture"):
        GaussianMixture(2).sample(3, torch.Generator(), owner="model type 'bgmm'")


def test_latent_mixture_is_fitted_on_the_codes() -> None:
    x = _two_clusters(1024)
    model = build("vae_bgmm", 2, {"latent": 2, "hidden": 16, "layers": 2, "components": 3})
    assert isinstance(model, VAEBGMM)
    train_model(model, x, x[:128], CONFIG)
    mu, _ = model.codes(torch.as_tensor(x))
    z = model.sample_latent(20000, torch.Generator().manual_seed(0))
    assert z.mean(dim=0).numpy() == pytest.approx(mu.mean(dim=0).numpy(), abs=0.1 * mu.std().item())
    assert z.std(dim=0).numpy() == pytest.approx(mu.std(dim=0).numpy(), rel=0.1)
