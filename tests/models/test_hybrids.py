"""Tests for Stevenson's (2022) VAE derivatives: VAE+D (three players) and VAE+NF (flow prior)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.models import build
from hepgen.models.vae_d import VAED
from hepgen.models.vae_nf import VAENF, VAENFD
from hepgen.training import TrainConfig, train_model
from hepgen.training.selection import mean_w1

CONFIG = TrainConfig(epochs=12, batch_size=128, lr=3e-3, device="cpu", seed=1, checkpoint_every=0)


@pytest.fixture(scope="module")
def clusters() -> np.ndarray:
    rng = np.random.default_rng(0)
    a = rng.normal([-2.0, 0.0], 0.4, size=(800, 2))
    b = rng.normal([1.5, 1.0], [0.6, 0.3], size=(1760, 2))
    x = np.concatenate([a, b]).astype(np.float32)
    return x[rng.permutation(len(x))]


def test_flow_prior_follows_the_codes(clusters) -> None:
    model = build("vae_nf", 2, {"latent": 2, "hidden": 32, "layers": 2, "flow_transforms": 2})
    assert isinstance(model, VAENF)
    train_model(model, clusters[:2048], clusters[2048:], CONFIG)
    mu, _ = model.codes(torch.as_tensor(clusters))
    prior = model.sample_latent(len(mu), torch.Generator().manual_seed(0))
    normal = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    # the learned prior is closer to the encoded events than the N(0, 1) of the naive VAE
    assert mean_w1(mu.numpy(), prior.numpy()) < 0.5 * mean_w1(mu.numpy(), normal.numpy())


def test_three_players_and_a_discriminator_that_learns(clusters) -> None:
    params = {"latent": 2, "hidden": 32, "layers": 2, "d_hidden": 16, "d_layers": 2}
    model = build("vae_d", 2, params)
    assert isinstance(model, VAED)
    assert set(model.optimizers(lr=CONFIG.lr, weight_decay=CONFIG.weight_decay)) == {
        "encoder",
        "decoder",
        "discriminator",
    }
    history = train_model(model, clusters[:2048], clusters[2048:], CONFIG)
    assert {"match", "kl", "d_loss", "d_real", "d_recon", "d_gen", "d_grad"} <= set(history[0])
    x = torch.as_tensor(clusters[2048:])
    with torch.no_grad():
        fake = model.sample(len(x), torch.Generator().manual_seed(0))
        real_logit, fake_logit = model.discriminator(x).mean(), model.discriminator(fake).mean()
    assert real_logit > fake_logit
    nfd = build("vae_nf_d", 2, {**params, "flow_transforms": 1})
    assert isinstance(nfd, VAENFD)
    encoder = nfd.optimizers(lr=CONFIG.lr, weight_decay=CONFIG.weight_decay)["encoder"].members
    assert list(map(id, encoder)) == list(
        map(id, [*nfd.encoder.parameters(), *nfd.prior.parameters()])
    )
