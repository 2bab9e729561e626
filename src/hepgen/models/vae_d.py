"""VAE+D: a VAE with a discriminator on real, reconstructed and generated events.

Stevenson (2022), Algorithm 2 (after the VAE/GAN of Larsen et al., arXiv:1512.09300): one
forward pass gives the reconstruction x_rec of a batch x and events x_gen decoded from prior
draws; the discriminator D scores all three. Three players, three optimisers:

- discriminator: ``Loss_disc = BCE(D(x), 1) + BCE(D(x_rec), 0) + BCE(D(x_gen), 0)``;
- decoder: ``gamma * Loss_recon - Loss_disc`` with ``Loss_recon = mean((D(x_rec) - D(x))^2)``
  on D's outputs (probabilities);
- encoder: ``KL + gamma * Loss_recon``, KL = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2).

The options of :class:`~hepgen.models.params.AdversarialParams` depart from it on request:
``match: features`` compares D's last hidden layer instead (Larsen et al.), ``mse`` adds the
data-space MSE, ``penalty`` an R1 penalty; ``beta`` and ``adversarial`` weight KL and
``-Loss_disc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from hepgen.models.gan import gradient_penalty
from hepgen.models.layers import ResidualMLP
from hepgen.models.params import AdversarialParams, ModelParams, VAEDParams
from hepgen.models.step import StepContext, adam
from hepgen.models.vae import VAE, weighted_mean

__all__ = ["AdversarialParams", "AdversarialVAE", "VAED", "VAEDParams", "bce"]

_PLAYERS = ("encoder", "decoder", "discriminator")


def bce(logits: Tensor, label: float, weights: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of D's probabilities sigmoid(logits) (n,) against ``label``.

    Arguments:
        logits: discriminator outputs before the sigmoid, shape (n,).
        label: 1.0 (real) or 0.0 (reconstructed, generated).
        weights: per-event weights of mean 1, shape (n,), or ``None``.

    Returns:
        The (weighted) mean of -[label log p + (1 - label) log(1 - p)], a scalar.
    """
    target = torch.full_like(logits, label)
    per_event = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return weighted_mean(per_event, weights)


class AdversarialVAE(VAE):
    """A VAE with a discriminator and three optimisers (Stevenson (2022), Algorithm 2).

    Subclasses choose the latent law of the generated events seen in training
    (:meth:`training_latent`, default: the sampling law), may add encoder terms
    (:meth:`latent_terms`) and call :meth:`add_discriminator`.
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

    def training_latent(self, n: int, generator: torch.Generator | None) -> Tensor:
        """Latent points (n, latent) z_p of the generated events shown to D in training."""
        return self.sample_latent(n, generator)

    def noise(self, x: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """The VAE's draws for ``x`` (n, d) and ``generated`` (n, latent): the codes z_p."""
        draws = super().noise(x, generator)
        with torch.no_grad():
            draws["generated"] = self.training_latent(len(x), generator).to(x.device)
        return draws

    def latent_terms(
        self, mu: Tensor, noise: Mapping[str, Tensor], weights: Tensor | None
    ) -> dict[str, Tensor]:
        """Extra encoder loss terms (name -> weighted scalar) of the means mu (n, latent)."""
        return {}

    def matched(self, x: Tensor, recon: Tensor, weights: Tensor | None) -> tuple[Tensor, ...]:
        """``Loss_recon`` and D's logits (n,) at ``x`` and ``recon`` (both (n, d)).

        ``match: output`` is Algorithm 2's mean of (sigmoid D(x_rec) - sigmoid D(x))^2;
        ``match: features`` the mean over events and units of the squared difference of D's
        last hidden layer (Larsen et al., arXiv:1512.09300).
        """
        h_real, h_rec = self.discriminator.hidden(x), self.discriminator.hidden(recon)
        real, rec = (self.discriminator.out(h).squeeze(-1).float() for h in (h_real, h_rec))
        if self.hparams.match == "features":
            per_event = (h_rec.float() - h_real.float()).pow(2).mean(dim=-1)
        else:
            per_event = (torch.sigmoid(rec) - torch.sigmoid(real)).pow(2)
        return weighted_mean(per_event, weights), real, rec

    def players(
        self, x: Tensor, noise: Mapping[str, Tensor], weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The three players' losses on one forward graph for a batch ``x`` (n, d).

        Arguments:
            x: events, shape (n, d).
            noise: the draws of :meth:`noise` for ``x``.
            weights: per-event weights of mean 1, shape (n,); they weight every per-event
                mean over the batch (not the generated events).

        Returns:
            ``{"encoder", "decoder", "discriminator"}`` losses (without penalty) and the parts
            ``loss`` (the encoder's), ``mse`` (data space), ``kl``, ``match`` (Loss_recon),
            ``d_loss`` (Loss_disc) and its terms ``d_real``, ``d_recon``, ``d_gen``, plus those
            of :meth:`latent_terms`.
        """
        hp = self.hparams
        mse, kl, recon, mu = self.terms(x, noise)
        generated = self.decode(noise["generated"].to(mu.dtype))
        match, real, rec = self.matched(x, recon, weights)
        gen = self.discriminator(generated).squeeze(-1).float()
        d_real, d_recon, d_gen = bce(real, 1.0, weights), bce(rec, 0.0, weights), bce(gen, 0.0)
        d_loss = d_real + d_recon + d_gen
        mse, kl = weighted_mean(mse, weights), weighted_mean(kl, weights)
        extra = self.latent_terms(mu, noise, weights)
        encoder = hp.beta * kl + hp.gamma * match + hp.mse * mse + sum(extra.values())
        decoder = hp.gamma * match - hp.adversarial * d_loss + hp.mse * mse
        return {
            "encoder": encoder,
            "decoder": decoder,
            "discriminator": d_loss,
            "loss": encoder,
            "mse": mse,
            "kl": kl,
            "match": match,
            "d_loss": d_loss,
            "d_real": d_real,
            "d_recon": d_recon,
            "d_gen": d_gen,
            **extra,
        }

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The loss parts on ``x`` (n, d) (see :meth:`players`); ``loss`` is the encoder's."""
        parts = self.players(x, noise, weights)
        return {k: v for k, v in parts.items() if k not in _PLAYERS}

    def train_step(
        self,
        x: Tensor,
        weights: Tensor | None,
        optimizers: Mapping[str, torch.optim.Optimizer],
        ctx: StepContext,
    ) -> dict[str, Tensor]:
        """One step of each of the three optimisers, all from the same forward pass."""
        noise = self.noise(x, ctx.generator)
        with ctx.autocast():
            parts = self.players(x, noise, weights)
        d_total = parts["discriminator"]
        if self.hparams.penalty > 0:
            penalty = gradient_penalty(self.discriminator, x, target=None)
            d_total = d_total + self.hparams.penalty * penalty
        *_, d_grad = ctx.update(
            (parts["encoder"], optimizers["encoder"]),
            (parts["decoder"], optimizers["decoder"]),
            (d_total, optimizers["discriminator"]),
        )
        logged = {k: v.detach() for k, v in parts.items() if k not in _PLAYERS}
        return {**logged, "d_grad": d_grad}


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
