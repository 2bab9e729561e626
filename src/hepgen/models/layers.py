"""The residual ELU MLP shared by the encoders, decoders, generators and discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ResidualMLP", "elu_"]


def elu_(x: Tensor) -> Tensor:
    """ELU in place, for inference: ``x`` (any shape) becomes ``max(x, exp(min(x, 0)) - 1)``.

    On the CPU this is about twice as fast as ``F.elu_``, whose vectorised ``expm1`` costs
    1.4-2 ns per value against 0.4 ns for ``exp``; it differs from ``expm1`` by at most about
    6e-8 in absolute value, near x = 0 (float32 rounding of exp(x) - 1).
    """
    if x.device.type != "cpu":
        return F.elu_(x)
    t = torch.clamp(x, max=0.0).exp_().sub_(1.0)
    return torch.maximum(x, t, out=x)


class ResidualMLP(nn.Module):
    """MLP with ELU activations: an input layer, ``layers - 1`` residual blocks, a linear output.

    The architecture of the encoder and decoder of arXiv:1901.00875 (width 128 for ttbar).

    Arguments:
        in_features: input width.
        out_features: output width.
        hidden: hidden width.
        layers: hidden layers (>= 1).
    """

    def __init__(self, in_features: int, out_features: int, *, hidden: int, layers: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_features, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, out_features)

    def hidden(self, x: Tensor) -> Tensor:
        """The last hidden activations, shape (n, hidden), for x of shape (n, in_features)."""
        if not torch.is_grad_enabled():  # inference: in place, a third less memory traffic
            h = elu_(self.inp(x))
            for block in self.blocks:
                h += elu_(block(h))
            return h
        h = F.elu(self.inp(x))
        for block in self.blocks:
            h = h + F.elu(block(h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        """Map (n, in_features) to (n, out_features)."""
        return self.out(self.hidden(x))
