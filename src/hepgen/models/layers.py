"""The residual ELU MLP shared by the encoders, decoders, generators and discriminators."""

from __future__ import annotations

from torch import Tensor, nn

from hepgen.models.kernels import linear_act

__all__ = ["ResidualMLP"]


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
        h = linear_act(x, self.inp, "elu")
        for block in self.blocks:
            h = linear_act(h, block, "elu", residual=h)
        return h

    def forward(self, x: Tensor) -> Tensor:
        """Map (n, in_features) to (n, out_features)."""
        return self.out(self.hidden(x))
