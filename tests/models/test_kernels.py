"""The fused C kernels of the sampling path against the torch code they replace."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
import torch.nn.functional as F

from hepgen.models import kernels
from hepgen.models.coupling import CouplingFlow
from hepgen.models.layers import ResidualMLP
from hepgen.models.rqs import Spline

SPECIAL = torch.tensor(
    [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e-30, -1e-30, -100.0]
)


def test_the_kernels_are_built_by_the_install() -> None:
    # `pip install -e .` compiles them with the system's C compiler; without one hepgen
    # falls back to torch silently, which this test turns into a failure for the test setup
    assert kernels.compiled()


@pytest.mark.parametrize("activation", ["relu", "elu"])
@pytest.mark.parametrize("residual", [False, True])
def test_fused_layer_matches_torch(activation: str, residual: bool) -> None:
    generator = torch.Generator().manual_seed(0)
    linear = torch.nn.Linear(7, 33)
    x = 3 * torch.randn(1001, 7, generator=generator)
    x[: len(SPECIAL), 0] = SPECIAL  # NaN and inf through the matmul
    base = torch.randn(1001, 33, generator=generator)
    with torch.inference_mode():
        fused = kernels.linear_act(x, linear, activation, base.clone() if residual else None)
        act = F.elu if activation == "elu" else F.relu
        expected = act(linear(x).double()) + (base.double() if residual else 0)
    assert fused[: len(SPECIAL)].isnan().any()  # NaN goes through, as through torch
    # same NaN, same inf, finite values to float32 rounding
    torch.testing.assert_close(fused.double(), expected, rtol=1e-6, atol=2e-7, equal_nan=True)


def test_fused_activations_of_special_values() -> None:
    linear = torch.nn.Linear(1, 1)
    with torch.no_grad():
        linear.weight.fill_(1.0)
        linear.bias.zero_()
    x = SPECIAL[:, None]
    with torch.inference_mode():
        elu = kernels.linear_act(x, linear, "elu")[:, 0]
        relu = kernels.linear_act(x, linear, "relu")[:, 0]
    assert elu[0].isnan() and relu[0].isnan()
    assert elu[1:].tolist() == pytest.approx([float("inf"), -1.0, 0, 0, 1e-30, -1e-30, -1.0])
    assert relu[1:].tolist() == pytest.approx([float("inf"), 0, 0, 0, 1e-30, 0, 0])


@pytest.mark.parametrize("bins", [2, 8, 64])
def test_fused_spline_inverse_matches_the_float64_spline(bins: int) -> None:
    generator = torch.Generator().manual_seed(bins)
    n = 5003  # not a multiple of the kernel's block of 16
    params = 3 * torch.randn(n, 3 * bins - 1, generator=generator)
    y = 4 * torch.randn(n, generator=generator)
    y[: len(SPECIAL)] = SPECIAL
    y[len(SPECIAL) : len(SPECIAL) + 2] = torch.tensor([5.0, -5.0])  # the domain's ends
    with torch.inference_mode():
        fused = kernels.rqs_inverse(params, y, bins=bins, bound=5.0)
    exact = Spline(params.double(), bins=bins, bound=5.0).inverse(y.double())
    in_float32 = Spline(params, bins=bins, bound=5.0).inverse(y)
    assert torch.equal(fused.isnan(), exact.isnan())
    outside = ~(y.abs() <= 5.0)  # NaN too; y = ±5 are knots of the spline
    assert torch.equal(fused[outside].nan_to_num(), y[outside].nan_to_num())  # identity outside
    error = (fused.double() - exact)[~outside].abs()
    torch_error = (in_float32.double() - exact)[~outside].abs()
    assert error.max() < 1e-3  # float32 rounding, amplified in the flattest bins
    assert error.mean() <= 3 * torch_error.mean()  # about as accurate as torch in float32


def test_spline_kernel_bounds_its_bins() -> None:
    # more bins than the kernel's block arrays hold: the torch spline, exactly
    params, y = torch.randn(40, 3 * 65 - 1), torch.randn(40)
    with torch.inference_mode():
        got = kernels.rqs_inverse(params, y, bins=65, bound=5.0)
    assert torch.equal(got, Spline(params, bins=65, bound=5.0).inverse(y))
    # and the C function itself refuses them rather than overrun its arrays
    out = torch.full((40,), 7.0)
    args = (out.data_ptr(), y.data_ptr(), params.data_ptr(), 40, 65, 5.0, 6.9)
    assert kernels._LIB.hepgen_rqs_inverse(*args) == -1
    assert bool((out == 7.0).all())


def test_the_torch_code_runs_under_autograd_and_when_asked() -> None:
    linear = torch.nn.Linear(4, 4)
    x = torch.randn(8, 4)
    assert kernels.linear_act(x, linear, "elu").requires_grad  # grad enabled: torch, differentiable
    with kernels.torch_only():
        assert not kernels.compiled()
    assert kernels.compiled()


def test_sampling_with_kernels_matches_the_torch_code_and_is_thread_safe() -> None:
    torch.manual_seed(0)
    models = {
        "mlp": ResidualMLP(5, 3, hidden=64, layers=4).eval(),
        "flow": CouplingFlow(6, transforms=4, hidden=32, layers=2, bins=8).eval(),
    }
    x = {"mlp": torch.randn(3000, 5), "flow": torch.randn(3000, 6)}

    def run(name: str) -> torch.Tensor:
        with torch.inference_mode():
            model = models[name]
            return model(x[name]) if name == "mlp" else model.inverse(x[name])

    with kernels.torch_only():
        expected = {name: run(name) for name in models}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, [*models] * 4))
    for name, got in zip([*models] * 4, results, strict=True):
        assert torch.equal(got, results[list(models).index(name)])  # same bits in every thread
        torch.testing.assert_close(got, expected[name], rtol=1e-5, atol=1e-5)
