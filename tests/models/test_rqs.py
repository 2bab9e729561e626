"""Tests of the rational-quadratic spline and the coupling flow built on it (arXiv:1906.04032)."""

from __future__ import annotations

import math

import pytest
import torch

from hepgen.models.coupling import CouplingFlow
from hepgen.models.rqs import Spline

BINS, BOUND = 8, 5.0


def random_splines(n: int, seed: int = 0):
    params = 3 * torch.randn((n, 3 * BINS - 1), generator=torch.Generator().manual_seed(seed))
    return Spline(params.double(), bins=BINS, bound=BOUND)


def test_spline_is_monotonic_maps_the_domain_onto_itself_and_is_identity_outside() -> None:
    x = torch.linspace(-8.0, 8.0, 2001, dtype=torch.float64)
    params = 3 * torch.randn((1, 3 * BINS - 1), generator=torch.Generator().manual_seed(0))
    spline = Spline(params.double().expand(len(x), -1), bins=BINS, bound=BOUND)
    y, _ = spline.forward(x)
    assert bool((y.diff() > 0).all())
    outside = x.abs() >= BOUND
    torch.testing.assert_close(y[outside], x[outside])
    assert y[~outside].abs().max() < BOUND


def test_inverse_undoes_forward_and_log_slope_matches_autograd() -> None:
    n = 4000
    spline = random_splines(n, seed=1)
    x = (torch.rand(n, generator=torch.Generator().manual_seed(2), dtype=torch.float64) - 0.5) * 14
    x.requires_grad_(True)
    y, log_slope = spline.forward(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(log_slope, grad.log(), atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(spline.inverse(y.detach()), x.detach(), atol=1e-9, rtol=0)


def test_the_minimum_slope_keeps_the_spline_invertible_for_extreme_parameters() -> None:
    params = torch.tensor([[50.0] * BINS + [-50.0] * BINS + [-80.0] * (BINS - 1)])
    spline = Spline(params.expand(101, -1).double(), bins=BINS, bound=BOUND)
    x = torch.linspace(-BOUND, BOUND, 101, dtype=torch.float64)
    y, log_slope = spline.forward(x)
    assert bool(torch.isfinite(log_slope).all())
    assert log_slope.min() >= math.log(1e-3) - 1e-9
    torch.testing.assert_close(spline.inverse(y), x, atol=1e-7, rtol=0)


@pytest.mark.parametrize("features", [1, 2, 5])
def test_coupling_flow_log_prob_is_the_change_of_variables(features: int) -> None:
    torch.manual_seed(0)
    flow = CouplingFlow(features, transforms=3, hidden=16, layers=2, bins=BINS).double()
    x = 2 * torch.randn(6, features, dtype=torch.float64)
    z, ladj = flow(x)
    for i in range(len(x)):
        jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        assert ladj[i].item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), abs=1e-8)
    base = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(dim=-1)
    torch.testing.assert_close(flow.log_prob(x), base + ladj)
    with torch.no_grad():
        torch.testing.assert_close(flow.inverse(z), x, atol=1e-8, rtol=0)
