"""Tests for the GAN: the weighted truth term and the gradient penalties (arXiv:1801.04406, 1704.00028)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hepgen.models import build
from hepgen.models.gan import GAN, gradient_penalty, real_term
from hepgen.models.layers import ResidualMLP
from hepgen.training import TrainConfig, train_model


def _linear_critic(slope: list[float]) -> ResidualMLP:
    """A critic D(x) = slope . x + 1 (one hidden layer made linear by zeroing the ELU path)."""
    critic = ResidualMLP(len(slope), 1, hidden=len(slope), layers=1)
    with torch.no_grad():
        critic.inp.weight.copy_(torch.eye(len(slope)))
        critic.inp.bias.fill_(10.0)  # ELU is the identity for positive inputs
        critic.out.weight.copy_(torch.tensor([slope]))
        critic.out.bias.fill_(1.0 - 10.0 * sum(slope))
    return critic


def test_penalties_of_a_linear_critic() -> None:
    critic = _linear_critic([3.0, 4.0])  # |grad D| = 5 everywhere
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    linear = (x @ torch.tensor([3.0, 4.0]) + 1.0).numpy()
    assert critic(x).squeeze(-1).detach().numpy() == pytest.approx(linear, abs=1e-4)
    assert gradient_penalty(critic, x, target=None).item() == pytest.approx(12.5)  # R1: |g|^2/2
    assert gradient_penalty(critic, x, target=1.0).item() == pytest.approx(16.0)  # (|g|-1)^2


def test_weights_enter_the_truth_term_only() -> None:
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0])
    weights = torch.tensor([2.0, 0.0, 1.5, 0.5])  # mean 1
    expected = (weights * F.softplus(-logits)).mean()
    assert real_term(logits, weights, wasserstein=False).item() == pytest.approx(expected.item())
    assert real_term(logits, None, wasserstein=True).item() == pytest.approx(-logits.mean().item())
    # a negatively weighted event pushes its logit down instead of up
    neg = torch.tensor([-1.0, 1.0, 1.0, 3.0])
    logit = torch.zeros(4, requires_grad=True)
    real_term(logit, neg, wasserstein=False).backward()
    assert logit.grad[0] > 0 > logit.grad[1]


def test_discriminator_steps_per_generator_step() -> None:
    gan = build("gan", 3, {"latent": 2, "hidden": 8, "layers": 1, "d_steps": 3})
    assert isinstance(gan, GAN)
    x = np.random.default_rng(0).normal(size=(96, 3)).astype(np.float32)
    g_before = [p.clone() for p in gan.generator.parameters()]
    train_model(
        gan, x[:64], x[64:], TrainConfig(epochs=1, batch_size=32, device="cpu", checkpoint_every=0)
    )
    # 2 batches: the generator is updated on every third discriminator step only
    assert all(torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters(), strict=True))


def test_gan_moves_towards_a_shifted_gaussian() -> None:
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(2048, 2)) * [1.0, 0.5] + [2.0, -1.0]).astype(np.float32)
    gan = build("gan", 2, {"latent": 2, "hidden": 32, "layers": 2, "penalty": 1.0}, seed=0)
    config = TrainConfig(epochs=30, batch_size=128, lr=2e-3, device="cpu", checkpoint_every=0)
    train_model(gan, x[:1792], x[1792:], config)
    gen = gan.sample(5000, torch.Generator().manual_seed(1)).numpy()
    assert gen.mean(axis=0) == pytest.approx([2.0, -1.0], abs=0.25)
    assert gen.std(axis=0) == pytest.approx([1.0, 0.5], rel=0.3)
