"""Conditional flow matching (Lipman et al., arXiv:2210.02747) with optimal-transport paths.

A velocity field v(x, t) is regressed on the velocity of straight paths from a Gaussian draw
x0 ~ N(0, 1) (t = 0) to a training event x1 (t = 1):

    x_t = (1 - (1 - sigma_min) t) x0 + t x1,     u_t = x1 - (1 - sigma_min) x0,
    loss = E_{t ~ U(0, 1), x0, x1} |v(x_t, t) - u_t|^2            (eq. 22-23 of the paper)

and events are drawn by integrating dx/dt = v(x, t) from x0 at t = 0 to t = 1 with a
fixed-step solver, so one event costs ``steps`` × (1, 2 or 4) network calls (Euler, midpoint,
RK4). The weights used for sampling are an exponential moving average of the trained ones
(``ema``), as in diffusion models (Ho et al., arXiv:2006.11239). A conditional model learns
v(x, t | c) on the paths of the generated features only, the condition c fixed along them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import torch
from torch import Tensor, nn

from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.models.layers import ResidualMLP
from hepgen.models.params import CFMParams
from hepgen.models.step import StepContext, adam

__all__ = ["CFM", "CFMParams", "VelocityField", "integrate"]

Velocity = Callable[[Tensor, Tensor], Tensor]
"""v(x, t): events (n, d) and times (n, 1) to velocities (n, d)."""


class VelocityField(nn.Module):
    """A residual ELU MLP of the event, an embedding of the time and the condition: v(x, t | c),
    shape (n, d).

    The time enters as (t, sin(pi 2^k t), cos(pi 2^k t)) for k < ``frequencies``.

    Arguments:
        features: event features d.
        hidden: hidden width.
        layers: hidden layers.
        frequencies: sine/cosine pairs of the time embedding.
        context: width k of the condition c (0: unconditional).
    """

    def __init__(
        self, features: int, *, hidden: int, layers: int, frequencies: int, context: int = 0
    ) -> None:
        super().__init__()
        omega = math.pi * 2.0 ** torch.arange(frequencies, dtype=torch.float32)
        self.register_buffer("omega", omega)
        self.net = ResidualMLP(
            features + 1 + 2 * frequencies + context, features, hidden=hidden, layers=layers
        )

    def forward(self, x: Tensor, t: Tensor, context: Tensor | None = None) -> Tensor:
        """The velocity at events ``x`` (n, d) and times ``t`` (n, 1) in [0, 1], given
        ``context`` (n, k)."""
        phase = t * self.omega
        parts = [x, t, phase.sin(), phase.cos()]
        return self.net(torch.cat(parts if context is None else [*parts, context], dim=-1))


_CALLS = {"euler": 1, "midpoint": 2, "rk4": 4}


def integrate(velocity: Velocity, x: Tensor, *, solver: str, steps: int) -> Tensor:
    """Solve dx/dt = velocity(x, t) from t = 0 to t = 1 with ``steps`` equal steps.

    Arguments:
        velocity: v(x, t) for x of shape (n, d) and t of shape (n, 1).
        x: the state at t = 0, shape (n, d).
        solver: ``"euler"``, ``"midpoint"`` or ``"rk4"`` (1, 2 or 4 calls of ``velocity`` per
            step; global error O(h), O(h²), O(h⁴)).
        steps: number of steps.

    Returns:
        The state at t = 1, shape (n, d).
    """
    if solver not in _CALLS:
        msg = f"unknown ODE solver {solver!r}; known solvers are {sorted(_CALLS)}"
        raise ValueError(msg)
    h = 1.0 / steps
    for i in range(steps):
        t = torch.full_like(x[:, :1], i * h)  # (n, 1), follows x's batch size when traced
        if solver == "euler":
            x = x + h * velocity(x, t)
        elif solver == "midpoint":
            k = velocity(x, t)
            x = x + h * velocity(x + 0.5 * h * k, t + 0.5 * h)
        else:
            k1 = velocity(x, t)
            k2 = velocity(x + 0.5 * h * k1, t + 0.5 * h)
            k3 = velocity(x + 0.5 * h * k2, t + 0.5 * h)
            k4 = velocity(x + h * k3, t + h)
            x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


class CFM(GeneratorModule):
    """Conditional flow-matching generator: a velocity field trained by regression, sampled by ODE.

    Arguments:
        features: event features d (the transformed features should be standardised, so that
            the Gaussian at t = 0 has the scale of the events).
        params: hyperparameters.
        conditions: condition columns k among the d inputs (the last k).
    """

    model_type: ClassVar[str] = "cfm"
    params_type: ClassVar[type[ModelParams]] = CFMParams
    hparams: CFMParams

    def __init__(self, features: int, params: CFMParams | None = None, conditions: int = 0) -> None:
        params = params or self.params_type()
        super().__init__(features, params, conditions)
        self.velocity = VelocityField(
            self.generated,
            hidden=params.hidden,
            layers=params.layers,
            frequencies=params.frequencies,
            context=conditions,
        )
        self.averaged = copy.deepcopy(self.velocity).requires_grad_(False)

    def optimizers(self, *, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """Adam over the velocity field (the averaged copy is not trained)."""
        return {"model": adam(self.velocity.parameters(), lr=lr, weight_decay=weight_decay)}

    def noise(self, x: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """``x0`` (n, d − k) ~ N(0, 1), the path's start, and ``t`` (n, 1) ~ U(0, 1) for ``x``
        (n, d)."""
        return {
            "x0": torch.randn((len(x), self.generated), generator=generator, device=x.device),
            "t": torch.rand((len(x), 1), generator=generator, device=x.device),
        }

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Weighted mean over events of the squared velocity error, averaged over features.

        Arguments:
            x: events x1, shape (n, d).
            noise: the draws of :meth:`noise` for ``x``.
            weights: per-event weights normalised to mean 1, shape (n,).

        Returns:
            ``{"loss": mse, "mse": mse}``, scalars.
        """
        x0, t = noise["x0"], noise["t"]
        x, condition = self.split_condition(x)
        shrink = 1.0 - self.hparams.sigma_min
        xt = (1.0 - shrink * t) * x0 + t * x
        target = x - shrink * x0
        error = (self.velocity(xt, t, condition).float() - target.float()).pow(2).mean(dim=-1)
        mse = error.mean() if weights is None else (weights * error).mean()
        return {"loss": mse, "mse": mse}

    def train_step(
        self,
        x: Tensor,
        weights: Tensor | None,
        optimizers: Mapping[str, torch.optim.Optimizer],
        ctx: StepContext,
    ) -> dict[str, Tensor]:
        """One optimiser step, then the moving average of the weights moves towards them.

        The decay ramps up as min(ema, (1 + k) / (10 + k)) at step k, so that early averages
        do not remember the initialisation.
        """
        parts = super().train_step(x, weights, optimizers, ctx)
        self.update_average(ctx.step)
        return parts

    @torch.no_grad()
    def update_average(self, step: int) -> None:
        """Move the averaged weights towards the trained ones (copy them when ``ema`` is 0)."""
        decay = min(self.hparams.ema, (1.0 + step) / (10.0 + step))
        trained = list(self.velocity.parameters())
        averaged = list(self.averaged.parameters())
        torch._foreach_lerp_(averaged, trained, 1.0 - decay)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space; given ``condition`` (n, k)
        for a conditional model (:meth:`condition_for`).

        Costs ``steps`` × (1, 2, 4 for Euler, midpoint, RK4) passes of the velocity network.
        """
        condition = self.condition_for(n, generator, condition)
        x0 = torch.randn((n, self.generated), generator=generator, device=self.device)
        if condition is None:
            velocity = self.averaged
        else:
            velocity = lambda x, t: self.averaged(x, t, condition)  # noqa: E731
        x = integrate(velocity, x0, solver=self.hparams.solver, steps=self.hparams.steps).float()
        return x if condition is None else torch.cat([x, condition], dim=1)
