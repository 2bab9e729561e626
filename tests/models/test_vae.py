"""Tests for the naive beta-VAE, the B-VAE density information buffer (arXiv:1901.00875) and
the alpha-VAE (Balanzá García)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.vae import BVAE, VAE, AlphaVAE
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


AVAE_SMALL = {"latent": 3, "hidden": 16, "layers": 2}


def _avae(alpha: float, beta: float = 1e-2) -> AlphaVAE:
    model = build("avae", 4, {**AVAE_SMALL, "alpha": alpha, "beta": beta}, seed=1)
    assert isinstance(model, AlphaVAE)
    return model


def test_alpha_vae_encoder_outputs_only_the_means() -> None:
    model = _avae(alpha=0.2)
    x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    assert model.encoder(x).shape == (50, 3)  # no log-variance head: sigma is not learned
    mu, logvar = model.encode(x)
    torch.testing.assert_close(mu, model.encoder(x))
    torch.testing.assert_close(torch.exp(0.5 * logvar), torch.full_like(mu, 0.2))
    vae = build("vae", 4, AVAE_SMALL, seed=1)
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in vae.parameters())


@pytest.mark.parametrize("alpha", [0.1, 0.3])
def test_alpha_vae_decodes_the_means_plus_noise_of_width_alpha(alpha: float) -> None:
    model = _avae(alpha)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0)).repeat(2000, 1)
    decoded = []
    decode = model.decode
    model.decode = lambda z, c=None: (
        decoded.append(z.detach()) or decode(z, c)
    )  # what training decodes
    model.loss(x, generator=torch.Generator().manual_seed(1))
    offset = decoded[0] - model.encoder(x).detach()
    assert offset.mean().item() == pytest.approx(0.0, abs=0.01)
    assert offset.std().item() == pytest.approx(alpha, rel=0.03)
    per_event = offset.reshape(2000, 8, 3).std(dim=0)  # the same width around every code
    assert per_event.numpy() == pytest.approx(np.full((8, 3), alpha), rel=0.1)


def test_alpha_vae_kl_is_that_of_the_fixed_width_posterior() -> None:
    alpha = 0.2
    model = _avae(alpha, beta=0.25)
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(2))
    parts = model.loss(x, generator=torch.Generator().manual_seed(3))
    mu = model.encoder(x).detach()
    kl = 0.5 * (mu.pow(2) + alpha**2 - 1.0 - 2.0 * np.log(alpha)).sum(dim=1).mean()
    assert parts["kl"].item() == pytest.approx(kl.item(), rel=1e-5)
    assert parts["loss"].item() == pytest.approx(0.75 * parts["mse"].item() + 0.25 * kl.item())


def test_alpha_vae_samples_the_standard_normal_prior() -> None:
    model = _avae(alpha=0.2)
    z = model.sample_latent(20000, torch.Generator().manual_seed(4))
    assert z.mean().item() == pytest.approx(0.0, abs=0.02)
    assert z.std().item() == pytest.approx(1.0, abs=0.02)
    x = model.sample(500, torch.Generator().manual_seed(5))
    z = model.sample_latent(500, torch.Generator().manual_seed(5))
    torch.testing.assert_close(x, model.decode(z).detach())
    assert not any(name.startswith("buffer") for name, _ in model.named_buffers())


def test_alpha_vae_beta_holds_the_code_scale() -> None:
    """A larger beta shrinks the codes against the fixed noise alpha (the mu^2 / 2 term)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2048, 4)).astype(np.float32)
    scales = []
    for beta in (1e-4, 0.3):
        model = _avae(alpha=0.2, beta=beta)
        config = TrainConfig(epochs=15, batch_size=256, lr=3e-3, device="cpu", select_by="val_loss")
        train_model(model, x[:1792], x[1792:], config)
        mu, sigma = model.codes(torch.as_tensor(x))
        assert torch.equal(sigma, torch.full_like(mu, sigma[0, 0].item()))
        scales.append(mu.std().item())
    assert scales[0] > 2.0 * scales[1]


@pytest.mark.parametrize(
    ("params", "key"),
    [({"alpha": 0.0}, "alpha"), ({"alpha": -0.1}, "alpha"), ({"beta": 2.0}, "beta")],
)
def test_alpha_vae_refuses_bad_params(params: dict, key: str) -> None:
    with pytest.raises(HepgenError, match=f"model type 'avae': key '{key}' must be"):
        build("avae", 4, {**AVAE_SMALL, **params})


def test_alpha_vae_has_no_buffer_smudge() -> None:
    with pytest.raises(HepgenError, match=r"model type 'avae': unknown key\(s\) \['gamma'\]"):
        build("avae", 4, {**AVAE_SMALL, "gamma": 0.05})
