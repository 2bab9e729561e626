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

    Arguments:
        features: event features d (the transformed features should be standardised).
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "flow"
    params_type: ClassVar[type[ModelParams]] = FlowParams
    hparams: FlowParams

    def __init__(self, features: int, params: FlowParams | None = None) -> None:
        params = params or self.params_type()
        super().__init__(features, params)
        self.flow = CouplingFlow(
            features,
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
        with torch.autocast(device_type=x.device.type, enabled=False):
            nll = -self.flow.log_prob(x.float())
        nll = nll.mean() if weights is None else (weights * nll).mean()
        return {"loss": nll, "nll": nll}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space, from ``generator``."""
        return self.flow.sample(n, generator, self.device).float()
