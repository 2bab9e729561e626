"""Copula VAE and copula VAE+D: beta-VAEs sampled through a Gaussian copula of uniform latents.

Stevenson (2022): after training, each latent coordinate of the training codes is mapped to a
uniform variable by its empirical distribution function; the dependence between them (the
copula) is modelled as Gaussian. Sampling draws correlated uniforms and maps them back
through the empirical quantiles, so every latent marginal is reproduced exactly.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.params import CopulaVAEDParams, CopulaVAEParams, ModelParams
from hepgen.models.vae import VAE
from hepgen.models.vae_d import AdversarialVAE

__all__ = [
    "CopulaVAE",
    "CopulaVAED",
    "CopulaVAEDParams",
    "CopulaVAEParams",
    "fit_copula",
    "sample_copula",
]


def fit_copula(codes: Tensor, knots: int) -> tuple[Tensor, Tensor]:
    """Empirical quantiles and Gaussian-copula Cholesky factor of ``codes`` (n, m).

    Arguments:
        codes: latent points, shape (n, m), n >= 2.
        knots: quantiles kept per coordinate (at most n).

    Returns:
        ``quantiles`` of shape (k, m) at probabilities linspace(0, 1, k) and the Cholesky
        factor (m, m) of the correlation of the normal scores Phi^-1((rank + 1/2) / n).
    """
    codes = codes.detach().float()
    n, m = codes.shape
    ordered = codes.sort(dim=0).values
    pos = torch.linspace(0.0, n - 1.0, min(knots, n), device=codes.device)
    lo = pos.floor().long().clamp(max=n - 2)
    frac = (pos - lo)[:, None]
    quantiles = ordered[lo] + frac * (ordered[lo + 1] - ordered[lo])
    ranks = codes.argsort(dim=0).argsort(dim=0).float()
    scores = math.sqrt(2.0) * torch.erfinv(2.0 * (ranks + 0.5) / n - 1.0)
    corr = torch.corrcoef(scores.T).reshape(m, m)
    eye = torch.eye(m, device=codes.device)
    return quantiles, torch.linalg.cholesky(corr + 1e-5 * eye)


def sample_copula(
    quantiles: Tensor, chol: Tensor, n: int, generator: torch.Generator | None
) -> Tensor:
    """Draw ``n`` points (n, m): Gaussian copula uniforms mapped through the quantiles (k, m)."""
    k, m = quantiles.shape
    g = torch.randn((n, m), generator=generator, device=quantiles.device) @ chol.T
    pos = 0.5 * (1.0 + torch.erf(g / math.sqrt(2.0))) * (k - 1)
    lo = pos.floor().long().clamp(0, k - 2)
    frac = pos - lo
    below, above = quantiles.gather(0, lo), quantiles.gather(0, lo + 1)
    return below + frac * (above - below)


class CopulaVAE(VAE):
    """beta-VAE sampled from the Gaussian copula of its training codes (Stevenson (2022)).

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "copula_vae"
    takes_physics_loss: ClassVar[bool] = False  # samples its copula, not the prior
    params_type: ClassVar[type[ModelParams]] = CopulaVAEParams
    hparams: CopulaVAEParams

    def __init__(self, features: int, params: CopulaVAEParams | None = None) -> None:
        super().__init__(features, params)
        latent = self.hparams.latent
        self.register_buffer("quantiles", torch.zeros(0, latent))
        self.register_buffer("copula_chol", torch.eye(latent))

    def prepare_sampling(
        self, train: Tensor, weights: Tensor | None = None, *, seed: int = 0
    ) -> None:
        """Fit the copula to the encoder means of the training events (n, d).

        Weighted events are not supported by the empirical quantiles; VAEs refuse negative
        weights and positive ones only enter the training loss.
        """
        mu, _ = self.codes(train)
        self.quantiles, self.copula_chol = fit_copula(mu, self.hparams.knots)

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) from the fitted copula."""
        if len(self.quantiles) == 0:
            msg = f"model type {self.model_type!r} has no fitted latent copula; fit it first"
            raise HepgenError(msg)
        return sample_copula(self.quantiles, self.copula_chol, n, generator)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        stored = state_dict.get(prefix + "quantiles")
        if isinstance(stored, Tensor):  # the table size is known only after fitting
            self.quantiles = torch.empty_like(stored, device=self.quantiles.device)
        super()._load_from_state_dict(state_dict, prefix, *args)


class CopulaVAED(AdversarialVAE, CopulaVAE):
    """Copula VAE+D (Stevenson (2022)): in training, D sees events from the batch's copula.

    Each batch's codes give a copula (quantiles and correlation of that batch), from which
    the generated events of the batch are drawn, so the discriminator trains the decoder on
    the latent law it is sampled from.
    """

    model_type: ClassVar[str] = "copula_vae_d"
    params_type: ClassVar[type[ModelParams]] = CopulaVAEDParams
    hparams: CopulaVAEDParams

    def __init__(self, features: int, params: CopulaVAEDParams | None = None) -> None:
        super().__init__(features, params)
        self.add_discriminator()

    def training_latent(self, mu: Tensor, generator: torch.Generator | None) -> Tensor:
        """Latent points (n, latent) from the copula of this batch's codes ``mu`` (n, latent)."""
        with torch.no_grad():
            quantiles, chol = fit_copula(mu.float(), self.hparams.knots)
            return sample_copula(quantiles, chol, len(mu), generator)
