"""Tests for the conditional flow-matching generator and its ODE solvers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.cfm import integrate
from hepgen.stats import wasserstein_1
from hepgen.training import TrainConfig, train_model


@pytest.mark.parametrize(
    ("solver", "steps", "tolerance"),
    [("euler", 1000, 5e-3), ("midpoint", 100, 2e-4), ("rk4", 10, 1e-5)],
)
def test_solvers_reach_the_exact_solution_at_their_order(solver, steps, tolerance) -> None:
    """dx/dt = x + t from x(0) = 1 has x(1) = 2e - 2; each solver within its error order."""
    x0 = torch.ones(3, 1, dtype=torch.float64)
    x1 = integrate(lambda x, t: x + t, x0, solver=solver, steps=steps)
    assert torch.allclose(x1, torch.full_like(x1, 2 * math.e - 2), atol=tolerance)


def test_coarser_steps_lose_accuracy_in_the_order_of_the_solver() -> None:
    x0 = torch.ones(1, 1, dtype=torch.float64)
    exact = 2 * math.e - 2

    def error(solver: str, steps: int) -> float:
        return abs(integrate(lambda x, t: x + t, x0, solver=solver, steps=steps).item() - exact)

    # halving the step divides the global error by 2^order
    assert 1.8 < error("euler", 20) / error("euler", 40) < 2.2
    assert 3.5 < error("midpoint", 20) / error("midpoint", 40) < 4.5
    assert 14 < error("rk4", 10) / error("rk4", 20) < 18


def test_the_loss_regresses_the_straight_path_velocity() -> None:
    """A field equal to the target velocity has zero loss; weights average per event."""
    model = build("cfm", 2, {"hidden": 8, "layers": 1, "sigma_min": 0.0}, seed=1)
    x = torch.randn(6, 2)
    noise = model.noise(x, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in model.velocity.parameters():
            p.zero_()
    parts = model.loss_with_noise(x, noise)
    target = (x - noise["x0"]).pow(2).mean(dim=-1)  # v = 0: the error is the velocity itself
    assert torch.allclose(parts["loss"], target.mean())
    weights = torch.tensor([2.0, 0.0, 1.0, 1.0, 0.0, 2.0])
    weighted = model.loss_with_noise(x, noise, weights=weights)["mse"]
    assert torch.allclose(weighted, (weights * target).mean())


def test_the_averaged_weights_follow_the_trained_ones() -> None:
    model = build("cfm", 3, {"hidden": 8, "layers": 1, "ema": 0.0}, seed=1)
    with torch.no_grad():
        for p in model.velocity.parameters():
            p.add_(1.0)
    model.update_average(step=100)
    for trained, averaged in zip(
        model.velocity.parameters(), model.averaged.parameters(), strict=True
    ):
        assert torch.equal(trained, averaged)
    model = build("cfm", 3, {"hidden": 8, "layers": 1, "ema": 0.9}, seed=1)
    before = [p.clone() for p in model.averaged.parameters()]
    with torch.no_grad():
        for p in model.velocity.parameters():
            p.add_(1.0)
    model.update_average(step=1000)  # decay 0.9: a tenth of the way
    for old, new in zip(before, model.averaged.parameters(), strict=True):
        assert torch.allclose(new, old + 0.1, atol=1e-6)


def test_cfm_learns_a_bimodal_and_correlated_distribution() -> None:
    """Two separated modes, one correlated pair: the samples match, a Gaussian does not."""
    rng = np.random.default_rng(0)
    n = 8000
    mode = rng.choice([-2.0, 2.0], size=n)
    a = mode + 0.3 * rng.normal(size=n)
    b = 0.8 * a + 0.3 * rng.normal(size=n)
    x = np.stack([a, b], axis=1)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)  # standardised, as the transform gives
    train, val, test = x[:3000], x[3000:4000], x[4000:]
    model = build("cfm", 2, {"hidden": 64, "layers": 2, "steps": 16, "ema": 0.99}, seed=2)
    config = TrainConfig(
        epochs=100, batch_size=128, lr=3e-3, device="cpu", seed=1, select_every=10,
        checkpoint_every=0,
    )  # fmt: skip
    train_model(model, train, val, config)
    generated = model.sample(len(test), torch.Generator().manual_seed(3)).numpy()
    w1 = wasserstein_1(test, generated)
    gaussian = rng.normal(size=test.shape)
    assert (w1 < 0.1).all(), w1
    assert (w1 < 0.3 * wasserstein_1(test, gaussian)).all()
    # the truth has no events between the modes (|a| < 0.25); a Gaussian puts 20 % there
    assert np.mean(np.abs(test[:, 0]) < 0.25) == 0
    assert np.mean(np.abs(generated[:, 0]) < 0.25) < 0.02
    assert abs(np.corrcoef(generated.T)[0, 1] - np.corrcoef(test.T)[0, 1]) < 0.01


def test_unknown_solver_is_refused_at_config_validation() -> None:
    with pytest.raises(HepgenError, match="'solver' must be a string one of"):
        build("cfm", 2, {"solver": "dopri5"})
