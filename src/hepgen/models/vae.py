"""Variational autoencoders: naive beta-VAE, B-VAE (density information buffer) and alpha-VAE.

The first two follow Otten et al., "Event generation and statistical sampling for physics with
deep generative models and a density information buffer", arXiv:1901.00875; the alpha-VAE
(fixed Gaussian noise N(0, alpha) added to the encoding) follows Balanzá García, Experiment III.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.models.layers import ResidualMLP
from hepgen.models.params import AlphaVAEParams, BVAEParams, VAEParams

__all__ = ["AlphaVAE", "AlphaVAEParams", "BVAE", "BVAEParams", "VAE", "VAEParams"]

_ENCODE_CHUNK = 65536


class VAE(GeneratorModule):
    """Naive beta-VAE (arXiv:1901.00875): Gaussian encoder, MLP decoder, samples z ~ N(0, 1).

    Conditional (``conditions`` = k > 0, as a conditional VAE, Sohn et al., NeurIPS 2015): the
    encoder reads the event with its condition, the decoder the code with the condition, and
    the decoder reconstructs the d − k generated features.

    Arguments:
        features: event features d.
        params: hyperparameters.
        conditions: condition columns k among the d inputs (the last k).
    """

    model_type: ClassVar[str] = "vae"
    params_type: ClassVar[type[ModelParams]] = VAEParams
    hparams: VAEParams
    takes_physics_loss: ClassVar[bool] = True
    learns_sigma: ClassVar[bool] = True
    """Whether the encoder outputs a log-variance beside each mean (width 2 latent, else latent)."""

    def __init__(self, features: int, params: VAEParams | None = None, conditions: int = 0) -> None:
        params = params or self.params_type()
        super().__init__(features, params, conditions)
        width = {"hidden": params.hidden, "layers": params.layers}
        outputs = (2 if self.learns_sigma else 1) * params.latent
        self.encoder = ResidualMLP(features, outputs, **width)
        self.decoder = ResidualMLP(params.latent + conditions, self.generated, **width)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the posterior mean and log-variance, each of shape (n, latent), for x (n, d)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-30.0, 20.0)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Map latent points (n, latent), given ``condition`` (n, k), to events (n, d − k)."""
        return self.decoder(z if condition is None else torch.cat([z, condition], dim=-1))

    def noise(self, x: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """``eps`` (n, latent): the standard normal draws of the reparametrisation of ``x``;
        with a :attr:`physics_loss`, also ``prior`` (n, latent): the codes of a generated batch."""
        shape = (len(x), self.hparams.latent)
        draws = {"eps": torch.randn(shape, generator=generator, device=x.device)}
        if self.physics_loss is not None:
            draws["prior"] = torch.randn(shape, generator=generator, device=x.device)
        return draws

    def kl(self, mu: Tensor, logvar: Tensor, z: Tensor, eps: Tensor) -> Tensor:
        """KL divergence of q(z|x) = N(mu, sigma) to the prior N(0, 1) per event, shape (n,).

        Arguments:
            mu: posterior means, shape (n, latent).
            logvar: posterior log-variances, shape (n, latent).
            z: the reparametrised codes mu + sigma * eps, shape (n, latent).
            eps: the standard normal draws behind z, shape (n, latent).
        """
        mu, logvar = mu.float(), logvar.float()
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)

    def terms(
        self, x: Tensor, noise: Mapping[str, Tensor]
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Per-event MSE and KL, each (n,), the reconstruction (n, d) and the means mu (n, latent).

        Arguments:
            x: events, shape (n, d).
            noise: the draws of :meth:`noise` for ``x``.
        """
        mu, logvar = self.encode(x)
        eps = noise["eps"].to(mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        x, condition = self.split_condition(x)
        recon = self.decode(z, condition)
        mse = (recon.float() - x.float()).pow(2).mean(dim=-1)
        return mse, self.kl(mu, logvar, z, eps), recon, mu

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """``(1 - beta) * MSE + beta * KL`` with the reparametrisation trick (arXiv:1901.00875).

        The MSE is averaged over features, the KL divergence to the prior summed over latent
        dimensions; both are (weighted) means over the events.

        Arguments:
            x: events, shape (n, d).
            noise: the draws of :meth:`noise` for ``x``.
            weights: per-event weights normalised to mean 1, shape (n,).

        Returns:
            ``{"loss", "mse", "kl"}``, scalars.
        """
        mse, kl, _, _ = self.terms(x, noise)
        mse, kl = weighted_mean(mse, weights), weighted_mean(kl, weights)
        beta = self.hparams.beta
        parts = {"loss": (1.0 - beta) * mse + beta * kl, "mse": mse, "kl": kl}
        if self.physics_loss is not None and "prior" in noise:  # events decoded from the prior
            physics = self.physics_loss(self.decode(noise["prior"].to(x.dtype)), x, weights)
            parts["physics"] = physics
            parts["loss"] = parts["loss"] + physics
        return parts

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) from the prior N(0, 1)."""
        shape = (n, self.hparams.latent)
        return torch.randn(shape, generator=generator, device=self.device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space.

        Arguments:
            n: number of events.
            generator: a torch generator on the model's device.
            condition: the condition rows (n, k) of a conditional model, or ``None`` to draw
                them from the training rows (:meth:`condition_for`).
        """
        condition = self.condition_for(n, generator, condition)
        x = self.decode(self.sample_latent(n, generator), condition).float()
        return x if condition is None else torch.cat([x, condition], dim=1)

    @torch.no_grad()
    def codes(self, events: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior means and standard deviations, each (n, latent), of ``events`` (n, d)."""
        mus, sigmas = [], []
        for chunk in events.split(_ENCODE_CHUNK):
            mu, logvar = self.encode(chunk)
            mus.append(mu.float())
            sigmas.append(torch.exp(0.5 * logvar.float()))
        return torch.cat(mus), torch.cat(sigmas)


def weighted_mean(values: Tensor, weights: Tensor | None) -> Tensor:
    """Mean of per-event ``values`` (n,), weighted by ``weights`` (n,) of mean 1 if given."""
    return values.mean() if weights is None else (values * weights).mean()


def draw_index(n: int, size: int, cdf: Tensor, generator: torch.Generator, device) -> Tensor:
    """``n`` indices into ``size`` entries: uniform, or by weight when ``cdf`` (size,) is set."""
    if len(cdf) == 0:
        return torch.randint(size, (n,), generator=generator, device=device)
    u = torch.rand(n, generator=generator, device=device, dtype=cdf.dtype) * cdf[-1]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=size - 1)


class BVAE(VAE):
    """B-VAE of arXiv:1901.00875: a VAE that samples around the encodings of training events.

    After training, the encoder means mu_i and standard deviations sigma_i of all training
    events form the density information buffer (registered buffers, saved in the state
    dict). Sampling draws i uniformly (or with probability proportional to the event weight)
    and z = mu_i + (alpha * sigma_i + gamma) * eps, eps ~ N(0, 1).
    """

    model_type: ClassVar[str] = "bvae"
    takes_physics_loss: ClassVar[bool] = False  # samples its buffer, not the prior
    params_type: ClassVar[type[ModelParams]] = BVAEParams
    hparams: BVAEParams
    _resizable: ClassVar[tuple[str, ...]] = ("buffer_mu", "buffer_sigma", "buffer_cdf")

    def __init__(self, features: int, params: BVAEParams | None = None) -> None:
        super().__init__(features, params)
        latent = self.hparams.latent
        self.register_buffer("buffer_mu", torch.zeros(0, latent))
        self.register_buffer("buffer_sigma", torch.zeros(0, latent))
        self.register_buffer("buffer_cdf", torch.zeros(0, dtype=torch.float64))

    def prepare_sampling(
        self, train: Tensor, weights: Tensor | None = None, *, seed: int = 0
    ) -> None:
        """Fill the buffer with the encodings of the training events (n, d), weights (n,)."""
        self.fill_buffer(train, weights)

    @torch.no_grad()
    def fill_buffer(self, events: Tensor, weights: Tensor | None = None) -> None:
        """Store mu_i and sigma_i, each (n, latent), of ``events`` (n, d) as the buffer.

        Arguments:
            events: transformed events, shape (n, d).
            weights: non-negative event weights, shape (n,); ``None`` samples uniformly.
        """
        self.buffer_mu, self.buffer_sigma = self.codes(events)
        uniform = weights is None or bool((weights == weights[0]).all())
        cdf = torch.zeros(0) if uniform else torch.cumsum(weights.double(), 0)
        self.buffer_cdf = cdf.to(device=events.device, dtype=torch.float64)

    def buffer_draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Means and standard deviations (n, latent) of ``n`` buffer entries drawn at random."""
        size = len(self.buffer_mu)
        if size == 0:
            msg = f"model type {self.model_type!r} has an empty density information buffer; fit it first"
            raise HepgenError(msg)
        device = self.buffer_mu.device
        index = draw_index(n, size, self.buffer_cdf, generator, device)
        return self.buffer_mu.index_select(0, index), self.buffer_sigma.index_select(0, index)

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) around randomly chosen buffer entries."""
        mu, sigma = self.buffer_draw(n, generator)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        return mu + (self.hparams.alpha * sigma + self.hparams.gamma) * eps

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # The buffer size is that of the training set: resize before copying.
        for name in self._resizable:
            stored = state_dict.get(prefix + name)
            if isinstance(stored, Tensor):
                current = getattr(self, name)
                setattr(self, name, torch.empty_like(stored, device=current.device))
        super()._load_from_state_dict(state_dict, prefix, *args)


class AlphaVAE(VAE):
    """alpha-VAE (Balanzá García, Experiment III): a fixed Gaussian noise N(0, alpha) is the variator.

    The encoder outputs only the means mu(x), shape (n, latent); the reparametrisation is
    z = mu(x) + alpha * eps, eps ~ N(0, 1), with no learned width. The loss keeps the beta-VAE's
    ``(1 - beta) * MSE + beta * KL`` with KL(N(mu, alpha^2) || N(0, 1)), whose only trainable
    part is beta * mu^2 / 2: it holds the codes' scale against the fixed noise alpha, which
    sets how finely the decoder resolves them. Sampling decodes z ~ N(0, 1), as the VAE does.
    """

    model_type: ClassVar[str] = "avae"
    params_type: ClassVar[type[ModelParams]] = AlphaVAEParams
    hparams: AlphaVAEParams
    takes_physics_loss: ClassVar[bool] = True  # decodes the prior N(0, 1) in one pass
    learns_sigma: ClassVar[bool] = False

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Means mu (n, latent) of x (n, d) and the fixed log-variance 2 log(alpha), same shape."""
        mu = self.encoder(x)
        return mu, torch.full_like(mu, 2.0 * math.log(self.hparams.alpha))
