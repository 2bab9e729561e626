"""Rational-quadratic spline coupling flow (Durkan et al., "Neural Spline Flows", arXiv:1906.04032).

Each coupling transform splits the d features into a conditioning half and a transformed half;
a small MLP maps the conditioning half to the bin widths, heights and knot derivatives of one
monotonic rational-quadratic spline per transformed feature (``hepgen.models.rqs``, on
[-bound, bound], identity outside). Successive transforms
alternate the halves. Both directions cost one conditioner pass per transform, so drawing an
event is as cheap as evaluating its density (an autoregressive flow inverts d times slower).

A conditional flow p(x | c) (Winkler et al., arXiv:1912.00042) feeds the condition c (n, k) to
every conditioner beside the conditioning half.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import Tensor, nn

from hepgen.models.kernels import linear_act, rqs_inverse
from hepgen.models.rqs import Spline

__all__ = ["CouplingFlow"]

_LOG_2PI = math.log(2.0 * math.pi)


class _Conditioner(nn.Module):
    """ReLU MLP: (n, fixed) and a condition (n, k) -> (n, changed, 3 * bins - 1) unconstrained
    spline parameters.

    With no conditioning features and no condition (a one-dimensional unconditional flow) the
    parameters are learned constants: an unconditional spline.
    """

    def __init__(
        self, fixed: int, changed: int, *, hidden: int, layers: int, bins: int, context: int = 0
    ) -> None:
        super().__init__()
        self.shape = (changed, 3 * bins - 1)
        inputs = fixed + context
        sizes = [inputs, *[hidden] * layers] if inputs else []
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.out = nn.Linear(hidden, changed * (3 * bins - 1)) if inputs else None
        self.constant = None if inputs else nn.Parameter(torch.zeros(self.shape))

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        if self.constant is not None:
            return self.constant.expand(len(x), *self.shape)
        if context is not None:
            x = torch.cat([x, context], dim=-1)
        for linear in self.hidden:
            x = linear_act(x, linear, "relu")
        return self.out(x).unflatten(-1, self.shape)


class _SplineCoupling(nn.Module):
    """One coupling transform of features split at ``split`` into two contiguous halves.

    With ``condition_on_first`` the features ``[split:]`` are splined given ``[:split]``;
    otherwise ``[:split]`` given ``[split:]``.
    """

    def __init__(
        self,
        features: int,
        split: int,
        condition_on_first: bool,
        *,
        hidden: int,
        layers: int,
        bins: int,
        bound: float,
        context: int = 0,
    ) -> None:
        super().__init__()
        self.split, self.condition_on_first = split, condition_on_first
        fixed = split if condition_on_first else features - split
        self.bins, self.bound = bins, bound
        self.net = _Conditioner(
            fixed, features - fixed, hidden=hidden, layers=layers, bins=bins, context=context
        )

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(fixed, changed) parts of x (n, d)."""
        first, second = x[:, : self.split], x[:, self.split :]
        return (first, second) if self.condition_on_first else (second, first)

    def _join(self, fixed: Tensor, changed: Tensor) -> Tensor:
        parts = (fixed, changed) if self.condition_on_first else (changed, fixed)
        return torch.cat(parts, dim=1)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Data -> base direction: ``(y, log|det J|)`` with shapes (n, d) and (n,)."""
        fixed, changed = self._halves(x)
        spline = Spline(self.net(fixed, context), bins=self.bins, bound=self.bound)
        y, log_slope = spline.forward(changed)
        return self._join(fixed, y), log_slope.sum(dim=-1)

    def inverse(self, y: Tensor, context: Tensor | None = None) -> Tensor:
        """Base -> data direction, shape (n, d); the fixed half is read and passed through."""
        fixed, changed = self._halves(y)
        x = rqs_inverse(self.net(fixed, context), changed, bins=self.bins, bound=self.bound)
        return self._join(fixed, x)


class CouplingFlow(nn.Module):
    """Normalizing flow x = T^-1(z), z ~ N(0, 1_d), from alternating spline couplings.

    Arguments:
        features: dimension d of the modelled space.
        transforms: number of coupling transforms; the first splines the second half of the
            features given the first half, the next the first half given the second, and so on.
        hidden: width of every conditioner MLP.
        layers: hidden layers of every conditioner MLP.
        bins: spline bins K on [-bound, bound].
        bound: spline domain; the standardised features should lie mostly within it.
        context: width k of the condition every conditioner also reads (0: unconditional).
    """

    def __init__(
        self,
        features: int,
        *,
        transforms: int,
        hidden: int,
        layers: int,
        bins: int,
        bound: float = 5.0,
        context: int = 0,
    ) -> None:
        super().__init__()
        self.features = features
        split = features // 2  # one feature: every transform is an unconditional spline of it
        self.couplings = nn.ModuleList(
            _SplineCoupling(
                features,
                split,
                condition_on_first=t % 2 == 0 or features == 1,
                hidden=hidden,
                layers=layers,
                bins=bins,
                bound=bound,
                context=context,
            )
            for t in range(transforms)
        )

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Map data x (n, d) given ``context`` (n, k) to base points z (n, d); also return
        log|det dz/dx|, shape (n,)."""
        total = torch.zeros(len(x), device=x.device, dtype=x.dtype)
        for coupling in self.couplings:
            x, ladj = coupling(x, context)
            total = total + ladj
        return x, total

    def log_prob(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        """log p(x | context) per event in nats, shape (n,), for x of shape (n, d)."""
        z, ladj = self(x, context)
        return ladj - 0.5 * (z.pow(2).sum(dim=-1) + self.features * _LOG_2PI)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        """Map base points z (n, d) given ``context`` (n, k) to data space, shape (n, d)."""
        for coupling in reversed(self.couplings):
            z = coupling.inverse(z, context)
        return z

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        device: torch.device | str,
        context: Tensor | None = None,
    ) -> Tensor:
        """Draw ``n`` points (n, d) from the flow with ``generator``, given ``context`` (n, k)."""
        z = torch.randn((n, self.features), generator=generator, device=device)
        return self.inverse(z, context)
