"""VAE+NF and VAE+NF+D: beta-VAEs with a normalizing-flow prior on the latent space.

Stevenson (2022): the N(0, 1) prior of the event VAE is replaced by a rational-quadratic
spline coupling flow (Durkan et al., arXiv:1906.04032) trained jointly through the KL term,
and sampling draws z from that flow; VAE+NF+D adds the discriminator and the three-player
training of VAE+D (Algorithm 2).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from hepgen.models.coupling import CouplingFlow
from hepgen.models.params import ModelParams, VAENFDParams, VAENFParams
from hepgen.models.vae import VAE
from hepgen.models.vae_d import AdversarialVAE

__all__ = ["VAENF", "VAENFD", "VAENFDParams", "VAENFParams"]


class VAENF(VAE):
    """beta-VAE with a learned flow prior p(z); KL(q(z|x) || p(z)) is estimated at the drawn z.

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "vae_nf"
    takes_physics_loss: ClassVar[bool] = False  # samples its flow prior
    params_type: ClassVar[type[ModelParams]] = VAENFParams
    hparams: VAENFParams

    def __init__(self, features: int, params: VAENFParams | None = None) -> None:
        super().__init__(features, params)
        hp = self.hparams
        self.prior = CouplingFlow(
            hp.latent,
            transforms=hp.flow_transforms,
            hidden=hp.flow_hidden,
            layers=hp.flow_layers,
            bins=hp.flow_bins,
        )

    def kl(self, mu: Tensor, logvar: Tensor, z: Tensor, eps: Tensor) -> Tensor:
        """Single-draw estimate log q(z|x) - log p(z) per event, shape (n,), in float32."""
        eps, logvar = eps.float(), logvar.float()
        log_q = -0.5 * (eps.pow(2) + logvar + math.log(2.0 * math.pi)).sum(dim=-1)
        with torch.autocast(device_type=z.device.type, enabled=False):
            log_p = self.prior.log_prob(z.float())
        return log_q - log_p

    @torch.no_grad()
    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) from the flow prior."""
        with torch.autocast(device_type=self.device.type, enabled=False):
            return self.prior.sample(n, generator, self.device)


class VAENFD(AdversarialVAE, VAENF):
    """VAE+NF+D (Stevenson (2022)): flow prior, and generated events drawn from it face D.

    Trained by Algorithm 2 (:mod:`hepgen.models.vae_d`); the flow prior is an encoder player,
    fitted through the KL term of the encoder loss.

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "vae_nf_d"
    params_type: ClassVar[type[ModelParams]] = VAENFDParams
    hparams: VAENFDParams

    def __init__(self, features: int, params: VAENFDParams | None = None) -> None:
        super().__init__(features, params)
        self.add_discriminator()

    def encoder_parameters(self) -> list[torch.nn.Parameter]:
        """The encoder and the flow prior (both are trained by the KL term)."""
        return [*self.encoder.parameters(), *self.prior.parameters()]
