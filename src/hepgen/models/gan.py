"""Generative adversarial network with a regularised discriminator, or WGAN-GP.

The default objective is the non-saturating GAN with the R1 gradient penalty on the
discriminator logit at real events (Mescheder et al., arXiv:1801.04406). ``loss: roth`` is the
regulariser written in Butter's 2021 lecture (which cites arXiv:1801.04406): the penalty of
Roth et al. (arXiv:1705.09367) on the logit phi = log D / (1 - D) at real and generated events,
weighted by (1 - D)^2 and D^2. ``loss: wgan-gp`` selects the Wasserstein critic with gradient
penalty (Gulrajani et al., arXiv:1704.00028); ``loss: mse`` Lebese's generator loss
(D(G(z)) - 1)^2 with the binary cross-entropy discriminator. Event weights enter the
discriminator's truth term only, never a penalty, so negative weights are allowed (Butter).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.models.layers import ResidualMLP
from hepgen.models.params import GANParams
from hepgen.models.step import StepContext, adam

__all__ = [
    "GAN",
    "GANParams",
    "UniformPrior",
    "generator_network",
    "gradient_penalty",
    "real_term",
    "roth_penalty",
]


def real_term(logits: Tensor, weights: Tensor | None, *, wasserstein: bool) -> Tensor:
    """The discriminator's truth term: weighted mean of softplus(-D) (GAN) or of -D (WGAN).

    Arguments:
        logits: discriminator outputs at real events, shape (n,).
        weights: event weights of mean 1 over the training set, shape (n,); may be negative.
        wasserstein: WGAN critic instead of the logistic discriminator.
    """
    per_event = -logits if wasserstein else F.softplus(-logits)
    return per_event.mean() if weights is None else (weights * per_event).mean()


def gradient_penalty(critic: ResidualMLP, x: Tensor, *, target: float | None) -> Tensor:
    """Mean gradient penalty of ``critic`` at events ``x`` (n, d), in float32.

    Arguments:
        critic: the discriminator network, mapping (n, d) to (n, 1).
        x: the events where the gradient is taken (real for R1, interpolates for WGAN-GP).
        target: ``None`` for R1, 1/2 |grad|^2 (arXiv:1801.04406); 1.0 for WGAN-GP,
            (|grad| - 1)^2 (arXiv:1704.00028).
    """
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        out = critic(x).sum()
        (grad,) = torch.autograd.grad(out, x, create_graph=True)
    if target is None:
        return 0.5 * grad.pow(2).sum(dim=-1).mean()
    return (grad.norm(dim=-1) - target).pow(2).mean()


def roth_penalty(critic: ResidualMLP, real: Tensor, fake: Tensor) -> Tensor:
    """Roth et al.'s regulariser of a logistic discriminator, in float32 (arXiv:1705.09367).

    ``<(1 - D)^2 |grad phi|^2>_real + <D^2 |grad phi|^2>_generated`` with the logit
    ``phi = log D / (1 - D)`` (the critic's output) and ``D = sigmoid(phi)``, as in Butter's
    lecture; each mean is unweighted. Differentiable in the critic's parameters, also through
    the factors (1 - D)^2 and D^2.

    Arguments:
        critic: the discriminator network, mapping (n, d) to logits (n, 1).
        real: training events, shape (n, d).
        fake: generated events, shape (m, d).
    """
    x = torch.cat([real.detach().float(), fake.detach().float()]).requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        phi = critic(x).squeeze(-1)
        (grad,) = torch.autograd.grad(phi.sum(), x, create_graph=True)
    squared, d = grad.pow(2).sum(dim=-1), torch.sigmoid(phi)
    n = len(real)
    return ((1.0 - d[:n]).pow(2) * squared[:n]).mean() + (d[n:].pow(2) * squared[n:]).mean()


class UniformPrior(nn.Module):
    """The normal CDF, Phi(z) = (1 + erf(z / sqrt 2)) / 2: N(0, 1) draws (n, k) -> U(0, 1) (n, k).

    Placed in front of the generator network, so that the generator keeps drawing (and an
    exported generator keeps taking) N(0, 1) noise while its network sees a uniform latent.
    """

    def forward(self, z: Tensor) -> Tensor:
        """Phi(z), elementwise."""
        return 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))


def generator_network(features: int, params: GANParams) -> nn.Module:
    """The generator: the residual MLP, behind :class:`UniformPrior` and before a sigmoid on request.

    The default (``prior: normal``, ``output: linear``) is the bare :class:`ResidualMLP`, so its
    parameters keep their names in state dicts; otherwise an ``nn.Sequential``.
    """
    net = ResidualMLP(params.latent, features, hidden=params.hidden, layers=params.layers)
    before = [UniformPrior()] if params.prior == "uniform" else []
    after = [nn.Sigmoid()] if params.output == "sigmoid" else []
    return nn.Sequential(*before, net, *after) if before or after else net


class GAN(GeneratorModule):
    """Generator G: N(0, 1)^latent (or U(0, 1)^latent) -> events; discriminator D: events -> logit.

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "gan"
    params_type: ClassVar[type[ModelParams]] = GANParams
    hparams: GANParams
    negative_weights: ClassVar[bool] = True
    takes_physics_loss: ClassVar[bool] = True
    limits: ClassVar[Mapping[str, float]] = {"d_loss": 1e4}

    def __init__(self, features: int, params: GANParams | None = None) -> None:
        params = params or self.params_type()
        super().__init__(features, params)
        self.generator = generator_network(features, params)
        self.discriminator = ResidualMLP(features, 1, hidden=params.hidden, layers=params.layers)
        self._physics = torch.zeros(())

    @property
    def wasserstein(self) -> bool:
        """Whether D is a Wasserstein critic."""
        return self.hparams.loss == "wgan-gp"

    def optimizers(self, *, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """Adam for each player with betas (beta1, beta2) (arXiv:1704.00028 uses (0, 0.9))."""
        betas = (self.hparams.beta1, self.hparams.beta2)
        return {
            name: adam(
                getattr(self, name).parameters(),
                lr=lr,
                betas=betas,
                weight_decay=weight_decay,
            )
            for name in ("generator", "discriminator")
        }

    def generate(self, n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
        """G(z) for n draws z ~ N(0, 1)^latent (mapped to U(0, 1) by a uniform prior), (n, d)."""
        z = torch.randn((n, self.hparams.latent), generator=generator, device=device)
        return self.generator(z)

    def _fake_term(self, logits: Tensor) -> Tensor:
        return logits.mean() if self.wasserstein else F.softplus(logits).mean()

    def _generator_loss(self, logits: Tensor) -> Tensor:
        if self.hparams.loss == "mse":  # Keras' combined model: MSE to the "real" label 1
            return (torch.sigmoid(logits) - 1.0).pow(2).mean()
        return -logits.mean() if self.wasserstein else F.softplus(-logits).mean()

    def _penalty(self, x: Tensor, fake: Tensor, generator: torch.Generator | None) -> Tensor:
        """The loss's gradient penalty at real events ``x`` and generated ``fake`` (n, d)."""
        if self.hparams.loss == "roth":
            return roth_penalty(self.discriminator, x, fake)
        if self.wasserstein:
            eps = torch.rand((len(x), 1), generator=generator, device=x.device)
            at = eps * x + (1.0 - eps) * fake.float()
            return gradient_penalty(self.discriminator, at, target=1.0)
        return gradient_penalty(self.discriminator, x, target=None)

    def loss(
        self, x: Tensor, *, weights: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Both players' losses on real events ``x`` (n, d), without the gradient penalty.

        Returns:
            ``{"loss": d_loss + g_loss, "d_loss", "g_loss"}``, scalars.
        """
        fake = self.generate(len(x), generator, x.device)
        d_real = self.discriminator(x).squeeze(-1).float()
        d_fake = self.discriminator(fake).squeeze(-1).float()
        d_loss = real_term(d_real, weights, wasserstein=self.wasserstein) + self._fake_term(d_fake)
        g_loss = self._generator_loss(d_fake)
        return {"loss": d_loss + g_loss, "d_loss": d_loss, "g_loss": g_loss}

    def train_step(
        self,
        x: Tensor,
        weights: Tensor | None,
        optimizers: Mapping[str, torch.optim.Optimizer],
        ctx: StepContext,
    ) -> dict[str, Tensor]:
        """A discriminator step on every batch, a generator step on every ``d_steps``-th.

        Returns:
            ``{"loss", "d_loss" (penalty included), "g_loss", "penalty", "d_grad"}`` where
            ``d_grad`` is the norm of the discriminator gradient.
        """
        hp, gen = self.hparams, ctx.generator
        with ctx.autocast():
            fake = self.generate(len(x), gen, x.device).detach()
            d_real = self.discriminator(x).squeeze(-1).float()
            d_fake = self.discriminator(fake).squeeze(-1).float()
        penalty = (
            self._penalty(x, fake, gen) if hp.penalty > 0 else torch.zeros((), device=x.device)
        )
        d_loss = real_term(d_real, weights, wasserstein=self.wasserstein) + self._fake_term(d_fake)
        d_loss = d_loss + hp.penalty * penalty
        (d_grad,) = ctx.update((d_loss, optimizers["discriminator"]))
        physics = None
        if ctx.step % hp.d_steps == hp.d_steps - 1:
            with ctx.autocast():
                generated = self.generate(len(x), gen, x.device)
                logits = self.discriminator(generated).squeeze(-1)
                g_loss = self._generator_loss(logits.float())
            if self.physics_loss is not None:
                physics = self.physics_loss(generated, x, weights)
            ctx.update((g_loss if physics is None else g_loss + physics, optimizers["generator"]))
        else:
            g_loss = self._generator_loss(d_fake)
        parts = {"d_loss": d_loss, "g_loss": g_loss, "penalty": penalty, "d_grad": d_grad}
        if self.physics_loss is not None:  # the last generator step's value on every batch
            self._physics = physics.detach() if physics is not None else self._physics
            parts["physics"] = self._physics
        parts = {k: v.detach() for k, v in parts.items()}
        return {"loss": parts["d_loss"] + parts["g_loss"], **parts}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events G(z), shape (n, d), in transformed space."""
        return self.generate(n, generator, self.device).float()
