"""Tests for the naive beta-VAE and the B-VAE density information buffer (arXiv:1901.00875)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.vae import BVAE, VAE
from hepgen.training import TrainConfig, train_model


def _fitted_bvae(alpha: float, gamma: float) -> BVAE:
    model = build(
        "bvae", 4, {"latent": 3, "hidden": 8, "layers": 2, "alpha": alpha, "gamma": gamma}
    )
    assert isinstance(model, BVAE)
    model.fill_buffer(torch.randn(300, 4, generator=torch.Generator().manual_seed(0)))
    return model


def _spread_buffer(model: BVAE) -> None:
    """Replace the buffer means by points far apart, so each z has its own mean nearest."""
    model.buffer_mu = 30.0 * torch.randn(300, 3, generator=torch.Generator().manual_seed(5))


def _nearest_offset(z: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """z minus its nearest buffer mean, shape (n, latent)."""
    return z - means[torch.cdist(z, means).argmin(dim=1)]


def test_buffer_without_smudge_samples_buffer_means() -> None:
    model = _fitted_bvae(alpha=0.0, gamma=0.0)
    z = model.sample_latent(500, torch.Generator().manual_seed(1))
    assert torch.equal(_nearest_offset(z, model.buffer_mu), torch.zeros_like(z))
    assert len(torch.unique(z, dim=0)) > 200  # many buffer entries, not one
    x = model.sample(500, torch.Generator().manual_seed(1))
    torch.testing.assert_close(x, model.decode(z).detach())


def test_smudge_widens_the_latent_spread() -> None:
    spreads = []
    for gamma in (0.0, 0.05, 0.3):
        model = _fitted_bvae(alpha=0.0, gamma=gamma)
        _spread_buffer(model)
        z = model.sample_latent(4000, torch.Generator().manual_seed(2))
        spreads.append(_nearest_offset(z, model.buffer_mu).std().item())
    assert spreads[0] == 0.0
    assert 0.0 < spreads[1] < spreads[2]
    assert spreads[1] == pytest.approx(0.05, rel=0.1)


def test_alpha_scales_the_encoder_width() -> None:
    model = _fitted_bvae(alpha=1.0, gamma=0.0)
    _spread_buffer(model)
    model.buffer_sigma.fill_(0.02)
    z = model.sample_latent(4000, torch.Generator().manual_seed(3))
    assert _nearest_offset(z, model.buffer_mu).std().item() == pytest.approx(0.02, rel=0.1)


def test_buffer_resizes_on_load_and_is_required() -> None:
    fitted = _fitted_bvae(alpha=1.0, gamma=0.05)
    fresh = build("bvae", 4, {"latent": 3, "hidden": 8, "layers": 2})
    with pytest.raises(HepgenError, match="buffer"):
        fresh.sample(3, torch.Generator())
    fresh.load_state_dict(fitted.state_dict())
    assert fresh.buffer_mu.shape == (300, 3)
    torch.testing.assert_close(fresh.buffer_sigma, fitted.buffer_sigma, rtol=0, atol=0)


def test_vae_samples_the_standard_normal_prior() -> None:
    model = build("vae", 4, {"latent": 5, "hidden": 8, "layers": 2})
    assert isinstance(model, VAE) and not isinstance(model, BVAE)
    z = model.sample_latent(20000, torch.Generator().manual_seed(4))
    assert z.mean().item() == pytest.approx(0.0, abs=0.02)
    assert z.std().item() == pytest.approx(1.0, abs=0.02)


def test_bvae_learns_a_correlated_gaussian() -> None:
    rng = np.random.default_rng(7)
    mean, std, rho = np.array([3.0, -2.0]), np.array([1.0, 0.5]), 0.8
    cov = np.outer(std, std) * np.array([[1.0, rho], [rho, 1.0]])
    x = rng.multivariate_normal(mean, cov, size=3000).astype(np.float32)
    model = build("bvae", 2, {"latent": 2, "hidden": 32, "layers": 2}, seed=0)
    train_model(
        model, x[:2400], x[2400:], TrainConfig(epochs=40, batch_size=128, lr=3e-3, device="cpu")
    )
    gen = model.sample(20000, torch.Generator().manual_seed(0)).numpy()
    assert gen.mean(axis=0) == pytest.approx(mean, abs=0.1 * std.min())
    assert gen.std(axis=0) == pytest.approx(std, rel=0.1)
    assert np.corrcoef(gen.T)[0, 1] == pytest.approx(rho, abs=0.05)
