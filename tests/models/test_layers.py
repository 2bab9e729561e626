"""The residual ELU MLP: its inference path (in place, exp-based ELU) against the training path."""

import torch
import torch.nn.functional as F

from hepgen.models.kernels import elu_
from hepgen.models.layers import ResidualMLP


def test_inference_elu_matches_torch_elu() -> None:
    x = torch.cat([torch.linspace(-100.0, 20.0, 200_001), torch.tensor([0.0, -0.0, -1e-30])])
    expected = F.elu(x.double())
    got = elu_(x.clone())
    assert got.dtype == torch.float32
    assert (got.double() - expected).abs().max().item() < 1e-7
    assert torch.equal(got[x > 0], x[x > 0])  # the identity, bit for bit, above 0
    assert got.min().item() >= -1.0


def test_inference_elu_is_in_place() -> None:
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    out = elu_(x)
    assert out.data_ptr() == x.data_ptr()


def test_inference_path_matches_the_differentiable_path() -> None:
    torch.manual_seed(0)
    mlp = ResidualMLP(5, 3, hidden=32, layers=4)
    x = torch.randn(1000, 5) * 3
    trained = mlp(x)  # grad enabled: F.elu, out of place
    with torch.inference_mode():
        inferred = mlp(x)
    assert torch.allclose(inferred, trained, rtol=0, atol=1e-5)
