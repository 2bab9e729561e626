"""Variational autoencoders: the naive beta-VAE and the B-VAE with a density information buffer.

Both follow Otten et al., "Event generation and statistical sampling for physics with deep
generative models and a density information buffer", arXiv:1901.00875.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.runtime import HepgenError

__all__ = ["BVAE", "BVAEParams", "ResidualMLP", "VAE", "VAEParams"]

_ENCODE_CHUNK = 65536


@dataclass(frozen=True)
class VAEParams(ModelParams):
    """Hyperparameters of the naive beta-VAE (defaults: best ttbar setting of arXiv:1901.00875).

    Attributes:
        latent: latent dimension.
        hidden: width of the hidden layers of encoder and decoder.
        layers: hidden layers of encoder and decoder (the first plus residual blocks).
        beta: weight of the KL term in the loss ``(1 - beta) * MSE + beta * KL``.
    """

    model_type: ClassVar[str] = "vae"
    latent: int = field(default=20, metadata={"min": 1})
    hidden: int = field(default=128, metadata={"min": 1})
    layers: int = field(default=4, metadata={"min": 1})
    beta: float = field(default=1e-6, metadata={"min": 0.0, "max": 1.0})


@dataclass(frozen=True)
class BVAEParams(VAEParams):
    """Hyperparameters of the B-VAE: those of the VAE plus the buffer sampling widths.

    Attributes:
        alpha: scale of the encoder standard deviations when sampling from the buffer.
        gamma: extra width added to every latent standard deviation ("smudge").
    """

    model_type: ClassVar[str] = "bvae"
    alpha: float = field(default=1.0, metadata={"min": 0.0})
    gamma: float = field(default=0.05, metadata={"min": 0.0})


class ResidualMLP(nn.Module):
    """MLP with ELU activations: an input layer, ``layers - 1`` residual blocks, a linear output.

    Arguments:
        in_features: input width.
        out_features: output width.
        hidden: hidden width.
        layers: hidden layers (>= 1).
    """

    def __init__(self, in_features: int, out_features: int, *, hidden: int, layers: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_features, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Map (n, in_features) to (n, out_features)."""
        h = F.elu(self.inp(x))
        for block in self.blocks:
            h = h + F.elu(block(h))
        return self.out(h)


class VAE(GeneratorModule):
    """Naive beta-VAE (arXiv:1901.00875): Gaussian encoder, MLP decoder, samples z ~ N(0, 1).

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "vae"
    params_type: ClassVar[type[ModelParams]] = VAEParams
    hparams: VAEParams

    def __init__(self, features: int, params: VAEParams | None = None) -> None:
        params = params or self.params_type()
        super().__init__(features, params)
        width = {"hidden": params.hidden, "layers": params.layers}
        self.encoder = ResidualMLP(features, 2 * params.latent, **width)
        self.decoder = ResidualMLP(params.latent, features, **width)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the posterior mean and log-variance, each of shape (n, latent), for x (n, d)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-30.0, 20.0)

    def decode(self, z: Tensor) -> Tensor:
        """Map latent points (n, latent) to events (n, d)."""
        return self.decoder(z)

    def loss(
        self, x: Tensor, *, weights: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """``(1 - beta) * MSE + beta * KL`` with the reparametrisation trick (arXiv:1901.00875).

        The MSE is averaged over features, the KL divergence to N(0, 1) summed over latent
        dimensions; both are (weighted) means over the events.

        Arguments:
            x: events, shape (n, d).
            weights: per-event weights normalised to mean 1, shape (n,).
            generator: seeds the reparametrisation noise.

        Returns:
            ``{"loss", "mse", "kl"}``, scalars.
        """
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        recon = self.decode(mu + torch.exp(0.5 * logvar) * eps)
        mse = (recon.float() - x.float()).pow(2).mean(dim=-1)
        mu, logvar = mu.float(), logvar.float()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)
        if weights is not None:
            mse, kl = mse * weights, kl * weights
        mse, kl = mse.mean(), kl.mean()
        beta = self.hparams.beta
        return {"loss": (1.0 - beta) * mse + beta * kl, "mse": mse, "kl": kl}

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) from the prior N(0, 1)."""
        shape = (n, self.hparams.latent)
        return torch.randn(shape, generator=generator, device=self.device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space.

        Arguments:
            n: number of events.
            generator: a torch generator on the model's device.
        """
        return self.decode(self.sample_latent(n, generator)).float()


class BVAE(VAE):
    """B-VAE of arXiv:1901.00875: a VAE that samples around the encodings of training events.

    After training, the encoder means mu_i and standard deviations sigma_i of all training
    events form the density information buffer (registered buffers, saved in the state
    dict). Sampling draws i uniformly and z = mu_i + (alpha * sigma_i + gamma) * eps,
    eps ~ N(0, 1).
    """

    model_type: ClassVar[str] = "bvae"
    params_type: ClassVar[type[ModelParams]] = BVAEParams
    hparams: BVAEParams

    def __init__(self, features: int, params: BVAEParams | None = None) -> None:
        super().__init__(features, params)
        latent = self.hparams.latent
        self.register_buffer("buffer_mu", torch.zeros(0, latent))
        self.register_buffer("buffer_sigma", torch.zeros(0, latent))

    def after_fit(self, train: Tensor) -> None:
        """Fill the buffer with the encodings of the training events (n, d)."""
        self.fill_buffer(train)

    @torch.no_grad()
    def fill_buffer(self, events: Tensor) -> None:
        """Store mu_i and sigma_i, each (n, latent), of ``events`` (n, d) as the buffer."""
        mus, sigmas = [], []
        for chunk in events.split(_ENCODE_CHUNK):
            mu, logvar = self.encode(chunk)
            mus.append(mu.float())
            sigmas.append(torch.exp(0.5 * logvar.float()))
        self.buffer_mu = torch.cat(mus)
        self.buffer_sigma = torch.cat(sigmas)

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) around uniformly chosen buffer entries."""
        size = len(self.buffer_mu)
        if size == 0:
            msg = "model type 'bvae' has an empty density information buffer; fit it first"
            raise HepgenError(msg)
        device = self.buffer_mu.device
        index = torch.randint(size, (n,), generator=generator, device=device)
        eps = torch.randn((n, self.hparams.latent), generator=generator, device=device)
        width = self.hparams.alpha * self.buffer_sigma[index] + self.hparams.gamma
        return self.buffer_mu[index] + width * eps

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # The buffer size is that of the training set: resize before copying.
        for name in ("buffer_mu", "buffer_sigma"):
            stored = state_dict.get(prefix + name)
            if isinstance(stored, Tensor):
                setattr(self, name, torch.empty_like(stored, device=self.buffer_mu.device))
        super()._load_from_state_dict(state_dict, prefix, *args)
