"""Tests for the copula VAE (Stevenson (2022)): uniform latent cube, separate players, copula."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kstest, spearmanr

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.copula import (
    CopulaVAE,
    fit_copula,
    latin_hypercube,
    sample_copula,
    sliced_wasserstein,
)
from hepgen.training import TrainConfig, train_model

NET = {"latent": 3, "hidden": 32, "layers": 2}
KS_BOUND = 0.1
"""Largest KS distance D of a latent marginal to U(0, 1) after the short training below (the
untrained encoder's codes are at D > 0.2; the 1 % critical value of 1000 uniform draws is 0.05)."""


@pytest.fixture(scope="module")
def skewed() -> np.ndarray:
    """3000 events of three standardised, correlated, skewed or heavy-tailed features."""
    rng = np.random.default_rng(0)
    cov = [[1.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 1.0]]
    g = rng.multivariate_normal([0, 0, 0], cov, size=3000)
    x = np.stack([np.exp(0.5 * g[:, 0]), g[:, 1] ** 3 / 3, g[:, 2]], axis=1)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32)


def config(epochs: int, select_by: str = "val_loss") -> TrainConfig:
    return TrainConfig(
        epochs=epochs,
        batch_size=256,
        lr=3e-3,
        device="cpu",
        seed=1,
        checkpoint_every=0,
        select_by=select_by,
    )


def ks_distances(model: CopulaVAE, events: np.ndarray) -> list[float]:
    u = model.uniform_codes(torch.as_tensor(events)).numpy()
    return [kstest(u[:, j], "uniform").statistic for j in range(u.shape[1])]


@pytest.mark.parametrize("phase", ["joint", "separate"])
def test_latent_marginals_are_uniform_on_validation_codes(skewed, phase: str) -> None:
    model = build("copula_vae", 3, {**NET, "uniformity": 100.0, "phase": phase}, seed=0)
    assert max(ks_distances(model, skewed[2000:])) > 0.2
    train_model(model, skewed[:2000], skewed[2000:], config(40))
    distances = ks_distances(model, skewed[2000:])
    assert max(distances) < KS_BOUND, distances


def snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def unchanged(module: torch.nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, q) for p, q in zip(module.parameters(), before, strict=True))


def validation(model: CopulaVAE, events: np.ndarray) -> dict[str, float]:
    with torch.no_grad():
        parts = model.loss(torch.as_tensor(events), generator=torch.Generator().manual_seed(0))
    return {k: v.item() for k, v in parts.items()}


def test_encoder_and_decoder_train_separately(skewed) -> None:
    train, val = skewed[:2000], skewed[2000:]
    encoder_phase = build("copula_vae", 3, {**NET, "phase": "encoder"}, seed=0)
    decoder_before = snapshot(encoder_phase.decoder)
    encoder_init = snapshot(encoder_phase.encoder)
    untrained = validation(encoder_phase, val)
    train_model(encoder_phase, train, val, config(6))
    assert unchanged(encoder_phase.decoder, decoder_before)
    assert not unchanged(encoder_phase.encoder, encoder_init)
    assert validation(encoder_phase, val)["uniform"] < 0.5 * untrained["uniform"]

    decoder_phase = build("copula_vae", 3, {**NET, "phase": "decoder"}, seed=5)
    decoder_phase.load_state_dict(encoder_phase.state_dict())
    encoder_trained = snapshot(decoder_phase.encoder)
    untrained = validation(decoder_phase, val)
    train_model(decoder_phase, train, val, config(6))
    assert unchanged(decoder_phase.encoder, encoder_trained)
    assert not unchanged(decoder_phase.decoder, decoder_before)
    assert validation(decoder_phase, val)["mse"] < 0.5 * untrained["mse"]
    assert np.isfinite(decoder_phase.sample(100, torch.Generator().manual_seed(0)).numpy()).all()


def test_separate_phase_keeps_the_players_gradients_apart() -> None:
    model = build("copula_vae", 3, {**NET, "phase": "separate"}, seed=0)
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    parts = model.loss(x, generator=torch.Generator().manual_seed(1))
    enc = torch.autograd.grad(parts["mse"], list(model.encoder.parameters()), allow_unused=True)
    dec = torch.autograd.grad(parts["uniform"], list(model.decoder.parameters()), allow_unused=True)
    assert all(g is None or not g.any() for g in (*enc, *dec))


def test_sliced_distance_vanishes_only_for_uniform_codes() -> None:
    g = torch.Generator().manual_seed(0)
    target = latin_hypercube((4000, 3), g, "cpu")
    directions = torch.nn.functional.normalize(torch.randn(8, 3, generator=g), dim=-1)
    uniform = torch.rand(4000, 3, generator=g)
    squeezed = 0.5 + 0.5 * (uniform - 0.5)
    assert sliced_wasserstein(uniform, target, directions) < 1e-3
    assert sliced_wasserstein(squeezed, target, directions) > 1e-2
    counts = np.histogram(target[:, 0].numpy(), bins=4000, range=(0, 1))[0]
    assert (counts == 1).all()  # one draw per stratum


def test_copula_keeps_marginals_and_rank_correlation() -> None:
    rng = np.random.default_rng(0)
    g = rng.multivariate_normal([0, 0], [[1.0, 0.7], [0.7, 1.0]], size=20000)
    codes = np.stack([np.exp(g[:, 0]), g[:, 1] ** 3], axis=1)  # skewed, heavy-tailed marginals
    quantiles, chol = fit_copula(torch.as_tensor(codes, dtype=torch.float32), knots=512)
    z = sample_copula(quantiles, chol, 20000, torch.Generator().manual_seed(1)).numpy()
    for j in range(2):
        probs = [0.05, 0.25, 0.5, 0.75, 0.95]
        assert np.quantile(z[:, j], probs) == pytest.approx(
            np.quantile(codes[:, j], probs), rel=0.05, abs=0.02
        )
    assert spearmanr(z).statistic == pytest.approx(spearmanr(codes).statistic, abs=0.03)


def test_copula_vae_needs_its_fit_and_samples_uniform_codes() -> None:
    model = build("copula_vae", 3, {"latent": 2, "hidden": 8, "layers": 2, "knots": 64})
    assert isinstance(model, CopulaVAE)
    with pytest.raises(HepgenError, match="no fitted latent copula"):
        model.sample(2, torch.Generator())
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
    model.prepare_sampling(x)
    u = model.uniform_codes(x)
    z = model.sample_latent(5000, torch.Generator().manual_seed(2))
    assert 0.0 <= z.min() and z.max() <= 1.0
    assert z.min() >= u.min() and z.max() <= u.max()  # no extrapolation beyond the codes
    assert z.median(dim=0).values.numpy() == pytest.approx(
        u.median(dim=0).values.numpy(), abs=0.05 * u.std().item()
    )


def test_bad_phase_names_the_key() -> None:
    with pytest.raises(HepgenError, match="'phase'.*one of"):
        build("copula_vae", 3, {"phase": "both"})
