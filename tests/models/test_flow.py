"""Tests for the spline coupling flow (arXiv:1906.04032): exact likelihood, inverse, learning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hepgen.models import build
from hepgen.models.flow import Flow
from hepgen.training import TrainConfig, train_model


def test_density_is_normalised_and_sampling_inverts_the_transform() -> None:
    flow = build("flow", 2, {"transforms": 2, "hidden": 16, "layers": 1, "bins": 4}, seed=1)
    assert isinstance(flow, Flow)
    # integrate exp(log p) on a grid covering the spline domain [-5, 5]^2 and beyond
    grid = torch.linspace(-9.0, 9.0, 301)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], dim=1)
    with torch.no_grad():
        density = (-flow.loss(points[:1])["nll"]).exp()  # smoke: one event
        logp = flow.flow.log_prob(points)
    cell = (grid[1] - grid[0]).item() ** 2
    assert density > 0
    assert logp.exp().sum().item() * cell == pytest.approx(1.0, abs=0.01)
    x = flow.sample(1000, torch.Generator().manual_seed(0))
    z = torch.randn((1000, 2), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(flow.flow(x)[0], z, atol=1e-4, rtol=0)


def test_flow_learns_a_correlated_gaussian() -> None:
    rng = np.random.default_rng(7)
    mean, std, rho = np.array([1.0, -0.5]), np.array([1.0, 0.5]), 0.8
    cov = np.outer(std, std) * np.array([[1.0, rho], [rho, 1.0]])
    x = rng.multivariate_normal(mean, cov, size=3000).astype(np.float32)
    flow = build("flow", 2, {"transforms": 2, "hidden": 32, "layers": 1, "bins": 4}, seed=0)
    config = TrainConfig(epochs=15, batch_size=128, lr=3e-3, device="cpu", checkpoint_every=0)
    history = train_model(flow, x[:2400], x[2400:], config)
    # the exact Gaussian entropy bounds the achievable NLL from below
    entropy = 0.5 * np.log(np.linalg.det(2 * math.pi * math.e * cov))
    assert min(r["val_nll"] for r in history) == pytest.approx(entropy, abs=0.1)
    gen = flow.sample(20000, torch.Generator().manual_seed(0)).numpy()
    assert gen.mean(axis=0) == pytest.approx(mean, abs=0.1)
    assert gen.std(axis=0) == pytest.approx(std, rel=0.1)
    assert np.corrcoef(gen.T)[0, 1] == pytest.approx(rho, abs=0.05)
