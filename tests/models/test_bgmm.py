"""Tests for the Bayesian Gaussian mixtures on events and on latent codes (Balanzá García)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.checkpoint import load_checkpoint, save_checkpoint
from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.bgmm import BGMM, VAEBGMM, AlphaVAEBGMM, GaussianMixture
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


AVAE_BGMM = {"latent": 2, "hidden": 16, "layers": 2, "alpha": 0.2, "components": 3}


def _fitted_avae_bgmm() -> tuple[AlphaVAEBGMM, np.ndarray]:
    x = _two_clusters(1024)
    model = build("avae_bgmm", 2, AVAE_BGMM, seed=1)
    assert isinstance(model, AlphaVAEBGMM)
    train_model(model, x, x[:128], CONFIG)
    return model, x


def test_alpha_vae_mixture_is_fitted_on_the_codes_of_the_training_events() -> None:
    model, x = _fitted_avae_bgmm()
    assert model.encoder(torch.as_tensor(x[:5])).shape == (5, 2)  # means only: no learned sigma
    mu = model.encoder(torch.as_tensor(x)).detach()
    z = model.sample_latent(20000, torch.Generator().manual_seed(0))  # fitted by the training
    assert z.mean(dim=0).numpy() == pytest.approx(mu.mean(dim=0).numpy(), abs=0.1 * mu.std().item())
    assert z.std(dim=0).numpy() == pytest.approx(mu.std(dim=0).numpy(), rel=0.1)
    # fitted again on the codes of the left cluster alone: the mixture follows the codes
    left = torch.as_tensor(x[x[:, 0] < -0.5])
    model.prepare_sampling(left, seed=3)
    z = model.sample_latent(20000, torch.Generator().manual_seed(0))
    codes = mu[x[:, 0] < -0.5]
    assert z.mean(dim=0).numpy() == pytest.approx(
        codes.mean(dim=0).numpy(), abs=0.1 * mu.std().item()
    )
    assert z.std(dim=0).numpy() == pytest.approx(codes.std(dim=0).numpy(), rel=0.15)
    events = model.sample(500, torch.Generator().manual_seed(1))
    z = model.sample_latent(500, torch.Generator().manual_seed(1))
    torch.testing.assert_close(events, model.decode(z).detach())


def test_alpha_vae_mixture_survives_a_weights_only_checkpoint(tmp_path) -> None:
    model, _ = _fitted_avae_bgmm()
    path = tmp_path / "model.pt"
    info = {"training": {"epochs": 2}, "history": [], "features": ["a", "b"]}
    save_checkpoint(path, model, type="avae_bgmm", params=AVAE_BGMM, **info)
    state = torch.load(path, weights_only=True)  # tensors and plain values only
    assert isinstance(state, dict)
    loaded, meta = load_checkpoint(path)
    assert isinstance(loaded, AlphaVAEBGMM) and meta["params"]["alpha"] == 0.2
    assert loaded.mixture.means.shape == model.mixture.means.shape
    expected = model.sample(300, torch.Generator().manual_seed(2))
    again = loaded.sample(300, torch.Generator().manual_seed(2))
    torch.testing.assert_close(again, expected, rtol=0, atol=0)


def test_unfitted_alpha_vae_mixture_refuses_to_sample() -> None:
    model = build("avae_bgmm", 2, AVAE_BGMM)
    with pytest.raises(HepgenError, match="model type 'avae_bgmm' has no fitted Gaussian mixture"):
        model.sample(3, torch.Generator())


@pytest.mark.parametrize(
    ("params", "key"),
    [({"components": 0}, "components"), ({"alpha": 0.0}, "alpha"), ({"max_iter": 0}, "max_iter")],
)
def test_alpha_vae_mixture_refuses_bad_params(params: dict, key: str) -> None:
    with pytest.raises(HepgenError, match=f"model type 'avae_bgmm': key '{key}' must be"):
        build("avae_bgmm", 2, {**AVAE_BGMM, **params})
