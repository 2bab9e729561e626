"""Monotonic rational-quadratic splines (Durkan et al., "Neural Spline Flows", arXiv:1906.04032).

The same spline as zuko's ``MonotonicRQSTransform`` (Gregory & Delbourgo's rational-quadratic
segments between K + 1 knots on [-B, B], identity outside, the unconstrained parameters
squashed so that every slope is at least ``slope``), written with few, contiguous tensor
operations: zuko's version spends most of its time in a softmax over 8-wide rows and in
broadcasts, which made sampling a coupling flow 10x slower than its networks.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["MIN_SLOPE", "Spline"]

#: The smallest derivative of a spline (zuko's default).
MIN_SLOPE = 1e-3


class Spline:
    """One spline per element, from unconstrained parameters of shape (..., 3K - 1).

    The knots are kept as the cumulative sums of the bin widths and heights, (..., 2, K),
    not normalised (the K-th entry is the total; knot k sits at B (2 cum_k / total - 1),
    knot 0 at -B), and the raw interior log-derivatives (..., K - 1); the derivatives at
    -B and B are 1, continuous with the identity outside [-B, B]. A point's bin is found by
    counting knots below it, and only the two knots around it are normalised and turned
    into positions and derivatives: per transformed value, the work on all K bins is the
    squashing, the exponential and the cumulative sum.

    Arguments:
        params: K bin widths, K bin heights, K - 1 interior knot log-derivatives.
        bins: K (at least 2).
        bound: B; the spline maps [-B, B] onto itself.
        slope: the minimum derivative.
    """

    def __init__(
        self, params: Tensor, *, bins: int, bound: float, slope: float = MIN_SLOPE
    ) -> None:
        self.bins, self.bound, self.scale = bins, bound, -math.log(slope)
        sizes = self._squash(params[..., : 2 * bins].unflatten(-1, (2, bins)), 2.0).exp()
        self.cum = torch.cumsum(sizes, dim=-1)  # bounded exponents: no overflow
        self.derivs = params[..., 2 * bins :]

    def _squash(self, raw: Tensor, factor: float = 1.0) -> Tensor:
        """Bound ``|raw|`` by ``scale / factor`` (zuko's parametrisation: the minimum slope)."""
        return raw / (raw * (factor / self.scale)).abs_().add_(1.0)

    def _segment(self, row: int, v: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Whether ``v`` (...) lies inside, and the knots of its segment, each (...).

        ``row`` 0 locates ``v`` among the knots' inputs (forward), 1 among their outputs.
        """
        b, bins = self.bound, self.bins
        total = self.cum[..., -1:]  # (..., 2, 1)
        u = (v + b) * (0.5 / b) * total[..., row, 0]
        k = (self.cum[..., row, :] < u.unsqueeze(-1)).sum(dim=-1)  # segment k: knots k, k + 1
        inside = (u > 0) & (k < bins)
        k = k.clamp_(max=bins - 1)  # outside: any real segment, so no 0/0 in the unused branch
        first = k > 0  # knot 0 is at -B with derivative 1, and is not stored
        below = (k - 1).clamp_(min=0)
        index = torch.stack((below, k), dim=-1).unsqueeze(-2).expand(*k.shape, 2, 2)
        ends = self.cum.gather(-1, index) / total  # (..., 2, 2): normalised cum_k, cum_k+1
        left = torch.where(first.unsqueeze(-1), ends[..., 0], 0.0) * (2 * b) - b
        x0, y0 = left.unbind(-1)
        x1, y1 = (ends[..., 1] * (2 * b) - b).unbind(-1)
        interior = torch.stack((below, k.clamp(max=bins - 2)), dim=-1)
        raw = self.derivs.gather(-1, interior)  # (..., 2), valid where the knot is interior
        raw = raw * torch.stack((first, k < bins - 1), dim=-1).to(raw.dtype)
        d0, d1 = self._squash(raw).exp().unbind(-1)
        return inside, (x0, x1, y0, y1, d0, d1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """y = f(x) and log f'(x), each with the shape of ``x`` (the parameters' leading shape)."""
        inside, (x0, x1, y0, y1, d0, d1) = self._segment(0, x)
        width, height = x1 - x0, y1 - y0
        s = height / width
        z = torch.where(inside, (x - x0) / width, 0.0)
        zz = z * (1 - z)
        denominator = s + (d0 + d1 - 2 * s) * zz
        y = y0 + height * (s * z * z + d0 * zz) / denominator
        slope = s * s * (2 * s * zz + d0 * (1 - z).square() + d1 * z * z) / denominator.square()
        return torch.where(inside, y, x), torch.where(inside, slope.log(), 0.0)

    def inverse(self, y: Tensor) -> Tensor:
        """x = f^-1(y), with the shape of ``y``: the root in [0, 1] of each segment's quadratic."""
        inside, (x0, x1, y0, y1, d0, d1) = self._segment(1, y)
        height = y1 - y0
        s = height / (x1 - x0)
        dy = torch.where(inside, y - y0, 0.0)
        curvature = d0 + d1 - 2 * s
        a = height * (s - d0) + dy * curvature
        b = height * d0 - dy * curvature
        c = -s * dy
        z = 2 * c / (-b - (b * b - 4 * a * c).clamp_min(0).sqrt())
        return torch.where(inside, x0 + z * (x1 - x0), y)
