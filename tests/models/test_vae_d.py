"""VAE+D's three losses are Stevenson's (2022) Algorithm 2, recomputed by hand on a fixed batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.copula import normal_cdf, sliced_wasserstein
from hepgen.models.step import StepContext

SMALL = {"latent": 3, "hidden": 16, "layers": 2, "d_hidden": 8, "d_layers": 2}


def fixed_batch(model, n: int = 64) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Events (n, d), weights (n,) and the model's noise for them, all from fixed seeds."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(n, model.features, generator=g)
    weights = torch.rand(n, generator=g) + 0.5
    weights = weights / weights.mean()
    noise = model.noise(x, torch.Generator().manual_seed(6))
    return x, weights, noise


def by_hand(model, x, weights, noise) -> dict[str, torch.Tensor]:
    """Algorithm 2 written out: BCE of D on real/recon/generated, Loss_recon on D's outputs."""
    hp = model.hparams
    mu, logvar = model.encode(x)
    sigma2 = logvar.exp()
    recon = model.decode(mu + sigma2.sqrt() * noise["eps"])
    generated = model.decode(noise["generated"])
    d = model.discriminator
    diss_real = torch.sigmoid(d(x)).squeeze(-1)  # the study's D ends in a sigmoid
    diss_recon = torch.sigmoid(d(recon)).squeeze(-1)
    diss_gen = torch.sigmoid(d(generated)).squeeze(-1)
    ones, zeros = torch.ones(len(x)), torch.zeros(len(x))
    err_real = (F.binary_cross_entropy(diss_real, ones, reduction="none") * weights).mean()
    err_recon = (F.binary_cross_entropy(diss_recon, zeros, reduction="none") * weights).mean()
    err_gen = F.binary_cross_entropy(diss_gen, zeros)
    loss_disc = err_gen + err_recon + err_real
    loss_recon = (((diss_recon - diss_real) ** 2) * weights).mean()
    kl = (-0.5 * (1 + logvar - mu**2 - sigma2).sum(dim=-1) * weights).mean()
    return {
        "discriminator": loss_disc,
        "decoder": hp.gamma * loss_recon - loss_disc,
        "encoder": kl + hp.gamma * loss_recon,
    }


@pytest.mark.parametrize("gamma", [1.0, 7.5])
def test_vae_d_losses_are_algorithm_2(gamma: float) -> None:
    model = build("vae_d", 4, {**SMALL, "gamma": gamma}, seed=3)
    x, weights, noise = fixed_batch(model)
    with torch.no_grad():
        parts = model.players(x, noise, weights)
        expected = by_hand(model, x, weights, noise)
    for player in ("encoder", "decoder", "discriminator"):
        assert parts[player].item() == pytest.approx(expected[player].item(), rel=1e-5, abs=1e-6)
    assert parts["d_loss"].item() == pytest.approx(expected["discriminator"].item(), rel=1e-5)


def test_defaults_are_the_algorithm_for_every_adversarial_type() -> None:
    for type in ("vae_d", "vae_nf_d", "copula_vae_d"):
        hp = build(type, 3, SMALL).hparams
        assert (hp.match, hp.beta, hp.adversarial, hp.mse, hp.penalty) == ("output", 1, 1, 0, 0)


def test_feature_matching_option_compares_the_last_hidden_layer() -> None:
    model = build("vae_d", 4, {**SMALL, "match": "features", "gamma": 2.0}, seed=3)
    x, weights, noise = fixed_batch(model)
    with torch.no_grad():
        parts = model.players(x, noise, weights)
        mu, logvar = model.encode(x)
        recon = model.decode(mu + torch.exp(0.5 * logvar) * noise["eps"])
        h_real, h_rec = model.discriminator.hidden(x), model.discriminator.hidden(recon)
        feat = (((h_rec - h_real) ** 2).mean(dim=-1) * weights).mean()
        kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1) * weights).mean()
    assert parts["match"].item() == pytest.approx(feat.item(), rel=1e-5)
    assert parts["encoder"].item() == pytest.approx((kl + 2.0 * feat).item(), rel=1e-5)
    assert parts["decoder"].item() == pytest.approx((2.0 * feat - parts["d_loss"]).item(), rel=1e-5)


def test_copula_vae_d_adds_the_uniformity_to_the_encoder_and_draws_uniform_codes() -> None:
    params = {**SMALL, "uniformity": 3.0, "projections": 4}
    model = build("copula_vae_d", 4, params, seed=3)
    x, weights, noise = fixed_batch(model)
    assert 0.0 <= noise["generated"].min() and noise["generated"].max() <= 1.0
    with torch.no_grad():
        parts = model.players(x, noise, weights)
        mu, logvar = model.encode(x)
        u = normal_cdf(mu + torch.exp(0.5 * logvar) * noise["eps"])
        d = model.discriminator
        loss_recon = (
            ((torch.sigmoid(d(model.decode(u))) - torch.sigmoid(d(x))).squeeze(-1) ** 2) * weights
        ).mean()
        kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1) * weights).mean()
        swd = sliced_wasserstein(normal_cdf(mu), noise["uniform"], noise["directions"])
    expected = kl + loss_recon + 3.0 * swd
    assert parts["encoder"].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(HepgenError, match="phase"):
        build("copula_vae_d", 4, {**SMALL, "phase": "encoder"})


def test_each_optimiser_steps_on_its_own_players_loss() -> None:
    model = build("vae_d", 4, SMALL, seed=3)
    x, weights, noise = fixed_batch(model)
    expected = by_hand(model, x, weights, noise)
    modules = {
        "encoder": model.encoder,
        "decoder": model.decoder,
        "discriminator": model.discriminator,
    }
    grads = {
        name: torch.autograd.grad(
            expected[name], list(module.parameters()), allow_unused=True, retain_graph=True
        )
        for name, module in modules.items()
    }
    before = {name: [p.detach().clone() for p in m.parameters()] for name, m in modules.items()}
    optimizers = model.optimizers(lr=1e-3, weight_decay=0.0)
    ctx = StepContext("cpu", None, None, torch.Generator().manual_seed(6))  # fixed_batch's noise
    model.train_step(x, weights, optimizers, ctx)
    for name, module in modules.items():
        for p, p0, g in zip(module.parameters(), before[name], grads[name], strict=True):
            strong = g.abs() > 1e-5  # Adam's first step moves by -lr * sign(gradient)
            step = (p.detach() - p0)[strong]
            assert torch.equal(torch.sign(step), -torch.sign(g[strong])), name
