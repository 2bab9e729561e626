"""Copula VAE and copula VAE+D: VAEs whose latent space is the uniform cube U(0, 1)^k.

Stevenson (2022): "the latent space is a multi-variate uniform distribution", "encoder and
decoder can be trained separately due to the prior knowledge of the uniform latent space",
and the model learns the CDFs of its inputs. Here the encoder's Gaussian posterior
N(mu, sigma) lives in probit space and the decoder reads the uniform code u = Phi(z),
Phi the standard normal CDF; the per-event KL to N(0, 1) is then exactly the KL of
q(u|x) to the uniform prior (KL is invariant under the bijection Phi). Because a per-event
KL leaves holes in the aggregate posterior, a sliced Wasserstein distance (Kolouri et al.,
arXiv:1804.01947; as in the Wasserstein autoencoder, arXiv:1711.01558) between the batch's
codes Phi(mu) and uniform draws pushes the aggregate posterior itself to U(0, 1)^k: it makes
the encoder learn the CDFs of what it encodes. Sampling draws uniforms from the Gaussian
copula of the training codes (through their empirical quantiles, so the residual
non-uniformity and dependence of the codes are reproduced) and decodes them.

Since the latent law is known, the two players need not share a loss (``phase``): the
encoder can learn the map onto U(0, 1)^k alone and the decoder its inverse alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.params import CopulaVAEDParams, CopulaVAEParams, ModelParams
from hepgen.models.step import adam
from hepgen.models.vae import VAE, weighted_mean
from hepgen.models.vae_d import AdversarialVAE

__all__ = [
    "CopulaVAE",
    "CopulaVAED",
    "CopulaVAEDParams",
    "CopulaVAEParams",
    "fit_copula",
    "latin_hypercube",
    "normal_cdf",
    "sample_copula",
    "sliced_wasserstein",
]


def normal_cdf(z: Tensor) -> Tensor:
    """Phi(z), the standard normal CDF, elementwise: probit codes to uniform codes."""
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


def latin_hypercube(
    shape: tuple[int, int], generator: torch.Generator | None, device: torch.device | str
) -> Tensor:
    """n draws (n, k) of U(0, 1)^k, stratified: each column has one draw in every [i/n, (i+1)/n).

    The joint law is U(0, 1)^k (the strata of the columns are paired at random), but each
    marginal is as even as n points can be, which lowers the noise of the sliced distance.
    """
    n, k = shape
    strata = torch.rand(shape, generator=generator, device=device).argsort(dim=0)
    return (strata + torch.rand(shape, generator=generator, device=device)) / n


def sliced_wasserstein(u: Tensor, target: Tensor, directions: Tensor) -> Tensor:
    """Squared sliced 2-Wasserstein distance between two equal-size samples (n, k).

    Both samples are projected on the k coordinate axes and on the unit ``directions``
    (p, k); on each line the 1-d W2^2 is the mean squared difference of the sorted
    projections (arXiv:1804.01947). Returns the mean over the k + p lines, a scalar.

    Arguments:
        u: codes, shape (n, k).
        target: draws of the target law, shape (n, k).
        directions: unit vectors, shape (p, k); p may be 0.
    """
    u, target = u.float(), target.float()
    eye = torch.eye(u.shape[1], device=u.device)
    lines = torch.cat([eye, directions.float()]).T  # (k, k + p)
    a, _ = (u @ lines).sort(dim=0)
    b, _ = (target @ lines).sort(dim=0)
    return (a - b).pow(2).mean()


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
    pos = normal_cdf(g) * (k - 1)
    lo = pos.floor().long().clamp(0, k - 2)
    frac = pos - lo
    below, above = quantiles.gather(0, lo), quantiles.gather(0, lo + 1)
    return below + frac * (above - below)


class CopulaVAE(VAE):
    """VAE on the uniform latent cube, sampled from the copula of its codes (Stevenson (2022)).

    Loss of ``phase: joint`` for a batch x (n, d): ``(1 - beta) * MSE(x, D(Phi(z))) + beta * KL
    + uniformity * SW2(Phi(mu), U(0, 1)^k)``, z = mu + sigma * eps. The other phases split
    it: the encoder minimises ``uniformity * SW2`` of its codes Phi(mu), the decoder the MSE
    of decoding the detached codes Phi(mu) (the posterior widths and the KL play no part).
    The loss is then a sum of two terms of disjoint parameters, so the shared loop's one
    optimiser step is a step of each player on its own loss; ``phase`` only chooses which
    parameters that optimiser holds (:meth:`optimizers`). Encoder and decoder are thus
    trainable one after the other (``encoder``, then ``decoder`` on the loaded weights) or
    side by side (``separate``). Alone, the encoder is a transport of the events onto
    U(0, 1)^k; it keeps their information when k <= d (k > d forces it to fold them).

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

    def optimizers(self, *, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """One Adam over the parameters the ``phase`` trains (encoder, decoder or both)."""
        phase = self.hparams.phase
        params = [
            *(self.encoder.parameters() if phase != "decoder" else ()),
            *(self.decoder.parameters() if phase != "encoder" else ()),
        ]
        return {"model": adam(params, lr=lr, weight_decay=weight_decay)}

    def noise(self, x: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """The VAE's ``eps`` (n, latent), stratified ``uniform`` draws (n, latent) of U(0, 1)^k and
        ``directions`` (projections, latent): random unit vectors of the sliced distance."""
        draws = super().noise(x, generator)
        shape = (len(x), self.hparams.latent)
        draws["uniform"] = latin_hypercube(shape, generator, x.device)
        p = (self.hparams.projections, self.hparams.latent)
        directions = torch.randn(p, generator=generator, device=x.device)
        draws["directions"] = directions / directions.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return draws

    def kl(self, mu: Tensor, logvar: Tensor, z: Tensor, eps: Tensor) -> Tensor:
        """KL of q(u|x) to U(0, 1)^k per event (n,): that of N(mu, sigma) to N(0, 1) in probit
        space; zero outside ``phase: joint``, where the widths play no part."""
        if self.hparams.phase != "joint":
            return mu.new_zeros(len(mu), dtype=torch.float32)
        return super().kl(mu, logvar, z, eps)

    def terms(
        self, x: Tensor, noise: Mapping[str, Tensor]
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Per-event MSE and KL, each (n,), the reconstruction (n, d) and the means mu (n, latent).

        The decoder reads u = Phi(mu + sigma * eps) in ``phase: joint``, else the detached
        codes Phi(mu).
        """
        mu, logvar = self.encode(x)
        eps = noise["eps"].to(mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        u = normal_cdf(z) if self.hparams.phase == "joint" else normal_cdf(mu).detach()
        recon = self.decode(u)
        mse = (recon.float() - x.float()).pow(2).mean(dim=-1)
        return mse, self.kl(mu, logvar, z, eps), recon, mu

    def uniformity(self, mu: Tensor, noise: Mapping[str, Tensor]) -> Tensor:
        """Sliced W2^2 between the codes Phi(mu) (n, latent) and the uniform draws of ``noise``."""
        return sliced_wasserstein(normal_cdf(mu.float()), noise["uniform"], noise["directions"])

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The loss of the ``phase`` (class docstring) and its parts, scalars.

        Event weights weight the MSE and KL means; the uniformity compares unweighted samples.
        ``loss`` holds only the losses of the players the phase trains.

        Returns:
            ``{"loss", "mse", "kl", "uniform"}``.
        """
        hp = self.hparams
        mse, kl, _, mu = self.terms(x, noise)
        mse, kl = weighted_mean(mse, weights), weighted_mean(kl, weights)
        uniform = self.uniformity(mu, noise)
        encoder, decoder = hp.uniformity * uniform, mse  # the players' separate losses
        if hp.phase == "joint":
            loss = (1.0 - hp.beta) * mse + hp.beta * kl + encoder
        else:  # disjoint parameters: a sum of the trained players' losses
            loss = {"encoder": encoder, "decoder": decoder}.get(hp.phase, encoder + decoder)
        return {"loss": loss, "mse": mse, "kl": kl, "uniform": uniform}

    @torch.no_grad()
    def uniform_codes(self, events: Tensor) -> Tensor:
        """The codes Phi(mu) in (0, 1)^k, shape (n, latent), of ``events`` (n, d)."""
        mu, _ = self.codes(events)
        return normal_cdf(mu)

    def prepare_sampling(
        self, train: Tensor, weights: Tensor | None = None, *, seed: int = 0
    ) -> None:
        """Fit the copula to the uniform codes Phi(mu) of the training events (n, d).

        The empirical quantiles take no event weights; VAEs refuse negative weights and
        positive ones only enter the training loss.
        """
        self.quantiles, self.copula_chol = fit_copula(self.uniform_codes(train), self.hparams.knots)

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw uniform codes (n, latent) from the fitted copula."""
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
    """Copula VAE+D (Stevenson (2022)): Algorithm 2's three players on the uniform latent cube.

    The generated events of a batch decode uniform draws of the prior U(0, 1)^k; the encoder
    loss adds ``uniformity * SW2`` of its codes. ``phase: separate`` decodes the detached
    codes Phi(mu) and drops the KL, so that the encoder learns only the uniformity and the
    decoder only Algorithm 2's decoder loss.

    Arguments:
        features: event features d.
        params: hyperparameters.
    """

    model_type: ClassVar[str] = "copula_vae_d"
    params_type: ClassVar[type[ModelParams]] = CopulaVAEDParams
    hparams: CopulaVAEDParams

    def __init__(self, features: int, params: CopulaVAEDParams | None = None) -> None:
        super().__init__(features, params)
        self.add_discriminator()

    def training_latent(self, n: int, generator: torch.Generator | None) -> Tensor:
        """Uniform codes (n, latent) drawn from the prior U(0, 1)^k."""
        shape = (n, self.hparams.latent)
        return torch.rand(shape, generator=generator, device=self.device)

    def latent_terms(
        self, mu: Tensor, noise: Mapping[str, Tensor], weights: Tensor | None
    ) -> dict[str, Tensor]:
        """``{"uniform": uniformity * SW2}`` of the codes Phi(mu) (n, latent)."""
        return {"uniform": self.hparams.uniformity * self.uniformity(mu, noise)}
