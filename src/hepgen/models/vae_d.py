"""VAE+D: a beta-VAE with a discriminator on reconstructed and generated events.

Stevenson (2022) adds to the event VAE the discriminator of the VAE/GAN of Larsen et al.
(arXiv:1512.09300): three players with three optimisers, and a gamma-weighted
feature-matching loss in the discriminator's last hidden layer (Larsen et al., Algorithm 1;
Stevenson (2022), Algorithm 2). The data-space MSE of the beta-VAE is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from hepgen.models.gan import gradient_penalty, real_term
from hepgen.models.layers import ResidualMLP
from hepgen.models.params import AdversarialParams, ModelParams, VAEDParams
from hepgen.models.step import StepContext, adam
from hepgen.models.vae import VAE, weighted_mean

__all__ = ["AdversarialParams", "AdversarialVAE", "VAED", "VAEDParams"]


class AdversarialVAE(VAE):
    """A VAE with a discriminator and three optimisers (encoder, decoder, discriminator).

    Subclasses choose the latent law of the generated events seen in training
    (:meth:`training_latent`, default: the sampling law) and call :meth:`add_discriminator`.
    """

    limits: ClassVar[Mapping[str, float]] = {"d_loss": 1e4}
    hparams: VAEDParams
    takes_physics_loss: ClassVar[bool] = False  # three players with their own step

    def add_discriminator(self) -> None:
        """Create the discriminator D: events (n, d) -> logit (n, 1)."""
        hp = self.hparams
        self.discriminator = ResidualMLP(self.features, 1, hidden=hp.d_hidden, layers=hp.d_layers)

    def encoder_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters updated by the encoder loss (the encoder, and a learned prior if any)."""
        return list(self.encoder.parameters())

    def optimizers(self, *, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """Adam for encoder, decoder and discriminator (the last with betas (0.5, 0.9))."""
        groups = {
            "encoder": (self.encoder_parameters(), (0.9, 0.999)),
            "decoder": (list(self.decoder.parameters()), (0.9, 0.999)),
            "discriminator": (list(self.discriminator.parameters()), (0.5, 0.9)),
        }
        return {
            name: adam(p, lr=lr, betas=b, weight_decay=weight_decay)
            for name, (p, b) in groups.items()
        }

    def training_latent(self, mu: Tensor, generator: torch.Generator | None) -> Tensor:
        """Latent points (n, latent) of the generated events shown to D in training."""
        with torch.no_grad():
            return self.sample_latent(len(mu), generator)

    def players(
        self, x: Tensor, weights: Tensor | None, generator: torch.Generator | None
    ) -> dict[str, Tensor]:
        """The three players' losses on one forward graph for a batch ``x`` (n, d).

        Returns:
            ``{"encoder", "decoder", "discriminator"}`` losses (without penalty) and the
            parts ``loss`` (the beta-VAE objective), ``mse``, ``kl``, ``feat``, ``d_loss``,
            ``g_loss``.
        """
        hp = self.hparams
        mse, kl, recon, mu = self.terms(x, self.noise(x, generator))
        generated = self.decode(self.training_latent(mu, generator))
        h_real, h_rec = self.discriminator.hidden(x), self.discriminator.hidden(recon)
        feat = weighted_mean((h_real.float() - h_rec.float()).pow(2).mean(dim=-1), weights)
        logits = [self.discriminator.out(h).squeeze(-1).float() for h in (h_real, h_rec)]
        logits.append(self.discriminator(generated).squeeze(-1).float())
        real, rec, gen = logits
        d_loss = real_term(real, weights, wasserstein=False) + 0.5 * (
            F.softplus(rec).mean() + F.softplus(gen).mean()
        )
        g_loss = 0.5 * (F.softplus(-rec).mean() + F.softplus(-gen).mean())
        mse, kl = weighted_mean(mse, weights), weighted_mean(kl, weights)
        vae = (1.0 - hp.beta) * mse + hp.beta * kl
        return {
            "encoder": vae + hp.gamma * feat,
            "decoder": (1.0 - hp.beta) * mse + hp.gamma * feat + hp.adversarial * g_loss,
            "discriminator": d_loss,
            "loss": vae,
            "mse": mse,
            "kl": kl,
            "feat": feat,
            "d_loss": d_loss,
            "g_loss": g_loss,
        }

    def loss(
        self, x: Tensor, *, weights: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """The loss parts on ``x`` (n, d); ``loss`` is the beta-VAE objective."""
        parts = self.players(x, weights, generator)
        return {k: v for k, v in parts.items() if k not in ("encoder", "decoder", "discriminator")}

    def train_step(
        self,
        x: Tensor,
        weights: Tensor | None,
        optimizers: Mapping[str, torch.optim.Optimizer],
        ctx: StepContext,
    ) -> dict[str, Tensor]:
        """One step of each of the three optimisers, all from the same forward pass."""
        with ctx.autocast():
            parts = self.players(x, weights, ctx.generator)
        penalty = x.new_zeros(())
        if self.hparams.penalty > 0:
            penalty = gradient_penalty(self.discriminator, x, target=None)
        d_total = parts["discriminator"] + self.hparams.penalty * penalty
        *_, d_grad = ctx.update(
            (parts["encoder"], optimizers["encoder"]),
            (parts["decoder"], optimizers["decoder"]),
            (d_total, optimizers["discriminator"]),
        )
        keep = ("loss", "mse", "kl", "feat", "d_loss", "g_loss")
        return {**{k: parts[k].detach() for k in keep}, "d_grad": d_grad}


class VAED(AdversarialVAE):
    """VAE+D (Stevenson (2022)): generated events from the prior N(0, 1) face the discriminator.

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "vae_d"
    params_type: ClassVar[type[ModelParams]] = VAEDParams

    def __init__(self, features: int, params: VAEDParams | None = None) -> None:
        super().__init__(features, params)
        self.add_discriminator()
