"""Network blocks shared by the generators: the residual ELU MLP and the spline-flow builder."""

from __future__ import annotations

import torch.nn.functional as F
import zuko
from torch import Tensor, nn

__all__ = ["ResidualMLP", "spline_flow"]


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
        h = F.elu(self.inp(x))
        for block in self.blocks:
            h = h + F.elu(block(h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        """Map (n, in_features) to (n, out_features)."""
        return self.out(self.hidden(x))


def spline_flow(
    features: int, *, transforms: int, hidden: int, layers: int, bins: int
) -> zuko.flows.NSF:
    """A rational-quadratic spline coupling flow (Durkan et al., arXiv:1906.04032).

    ``passes=2`` makes zuko's neural spline flow a coupling flow: both directions cost one
    network pass per transform, so sampling is as fast as density evaluation (a fully
    autoregressive flow samples about ``features`` times slower per transform).

    Arguments:
        features: dimension of the modelled space.
        transforms: number of coupling transforms (alternating halves).
        hidden: width of the conditioner networks.
        layers: hidden layers of each conditioner.
        bins: spline bins on the domain [-5, 5] (identity outside).

    Returns:
        The flow; ``flow()`` is the distribution, ``flow().transform.inv`` maps base to data.
    """
    return zuko.flows.NSF(
        features,
        transforms=transforms,
        bins=bins,
        passes=2,
        hidden_features=[hidden] * layers,
    )
