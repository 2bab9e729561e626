"""Normalizing flow: rational-quadratic spline coupling transforms (Durkan et al., arXiv:1906.04032)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import Tensor

from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.models.coupling import CouplingFlow
from hepgen.models.params import FlowParams

__all__ = ["Flow", "FlowParams"]


class Flow(GeneratorModule):
    """Neural spline flow trained by maximum likelihood; samples x = T^-1(z), z ~ N(0, 1).

    The coupling form (``hepgen.models.coupling``) inverts in one conditioner pass per
    transform, so sampling is about as fast as training; an autoregressive flow would sample
    d times slower per transform.

    Conditional (``conditions`` = k > 0): learns p(x | c) of the first d − k inputs given the
    last k, every conditioner reading c (Winkler et al., arXiv:1912.00042).

    Arguments:
        features: event features d (the transformed features should be standardised).
        params: hyperparameters.
        conditions: condition columns k among the d inputs (the last k).
    """

    model_type: ClassVar[str] = "flow"
    params_type: ClassVar[type[ModelParams]] = FlowParams
    hparams: FlowParams

    def __init__(
        self, features: int, params: FlowParams | None = None, conditions: int = 0
    ) -> None:
        params = params or self.params_type()
        super().__init__(features, params, conditions)
        self.flow = CouplingFlow(
            self.generated,
            context=conditions,
            transforms=params.transforms,
            hidden=params.hidden,
            layers=params.layers,
            bins=params.bins,
        )

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Weighted mean negative log-likelihood per event of ``x`` (n, d), in nats (no noise).

        Evaluated in float32 even under mixed precision (the log-determinants need it).

        Returns:
            ``{"loss": nll, "nll": nll}``, scalars.
        """
        x, condition = self.split_condition(x.float())
        with torch.autocast(device_type=x.device.type, enabled=False):
            nll = -self.flow.log_prob(x, condition)
        nll = nll.mean() if weights is None else (weights * nll).mean()
        return {"loss": nll, "nll": nll}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space, from ``generator``; given
        ``condition`` (n, k) for a conditional flow (:meth:`condition_for`)."""
        condition = self.condition_for(n, generator, condition)
        x = self.flow.sample(n, generator, self.device, condition).float()
        return x if condition is None else torch.cat([x, condition], dim=1)
