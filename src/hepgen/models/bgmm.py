"""Bayesian Gaussian mixtures: fitted on the events (baseline) or on a VAE's latent codes.

All follow Balanzá García: a Dirichlet-process Bayesian Gaussian mixture with full
covariances (scikit-learn's ``BayesianGaussianMixture``), fitted once, then stored as tensors;
on the codes of a beta-VAE (Experiments I and II) or of an alpha-VAE (Experiment III).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule, ModelParams
from hepgen.models.params import AlphaVAEBGMMParams, BGMMParams, VAEBGMMParams
from hepgen.models.vae import VAE, AlphaVAE, draw_index

__all__ = [
    "AlphaVAEBGMM",
    "AlphaVAEBGMMParams",
    "BGMM",
    "BGMMParams",
    "GaussianMixture",
    "VAEBGMM",
    "VAEBGMMParams",
]

log = logging.getLogger(__name__)


class GaussianMixture(nn.Module):
    """A fitted Gaussian mixture held in buffers: weights (k,), means (k, m), Cholesky (k, m, m).

    Arguments:
        dim: dimension m of the modelled space.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("weights", torch.zeros(0, dtype=torch.float64))
        self.register_buffer("means", torch.zeros(0, dim))
        self.register_buffer("scale_tril", torch.zeros(0, dim, dim))

    def fit(
        self,
        x: np.ndarray,
        *,
        components: int,
        max_iter: int,
        seed: int,
        weights: np.ndarray | None = None,
        owner: str = "mixture",
    ) -> None:
        """Fit a Dirichlet-process Bayesian mixture to ``x`` (n, m) and store it.

        scikit-learn's mixture takes no event weights: non-uniform non-negative weights are
        applied by resampling n events with probability proportional to their weight.

        Arguments:
            x: points, shape (n, m).
            components: upper bound on the number of components (unused ones get ~0 weight).
            max_iter: variational EM iterations.
            seed: seeds the k-means initialisation and the resampling.
            weights: event weights, shape (n,), or ``None``.
            owner: names the model in the log.
        """
        # scikit-learn is needed to fit, not to load or sample a fitted mixture
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture
        from threadpoolctl import threadpool_limits

        x = np.asarray(x, dtype=np.float64)
        if weights is not None and not np.all(weights == weights[0]):
            rng = np.random.default_rng(seed)
            x = x[rng.choice(len(x), size=len(x), p=weights / weights.sum())]
        bgmm = BayesianGaussianMixture(
            n_components=min(components, len(x)),
            covariance_type="full",
            weight_concentration_prior_type="dirichlet_process",
            max_iter=max_iter,
            random_state=seed,
        )
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bgmm.fit(x)
        if not bgmm.converged_:
            log.warning(
                "%s: the Bayesian mixture did not converge in %d iterations", owner, max_iter
            )
        device = self.means.device
        self.weights = torch.as_tensor(bgmm.weights_, dtype=torch.float64, device=device)
        self.means = torch.as_tensor(bgmm.means_, dtype=torch.float32, device=device)
        chol = np.linalg.cholesky(bgmm.covariances_)
        self.scale_tril = torch.as_tensor(chol, dtype=torch.float32, device=device)
        used = int((bgmm.weights_ > 1e-3).sum())
        log.info("%s: %d of %d mixture components carry weight > 1e-3", owner, used, components)

    def sample(self, n: int, generator: torch.Generator, *, owner: str = "mixture") -> Tensor:
        """Draw ``n`` points, shape (n, m), from ``generator``."""
        if len(self.weights) == 0:
            msg = f"{owner} has no fitted Gaussian mixture; fit it first"
            raise HepgenError(msg)
        device = self.means.device
        index = draw_index(n, len(self.weights), torch.cumsum(self.weights, 0), generator, device)
        eps = torch.randn((n, self.means.shape[1]), generator=generator, device=device)
        out = torch.empty_like(eps)
        for k in range(len(self.weights)):
            mask = index == k
            out[mask] = self.means[k] + eps[mask] @ self.scale_tril[k].T
        return out

    def log_prob(self, x: Tensor) -> Tensor:
        """Log density at ``x`` (n, m), shape (n,)."""
        dist = torch.distributions.MultivariateNormal(
            self.means, scale_tril=self.scale_tril, validate_args=False
        )
        logp = dist.log_prob(x.float()[:, None, :]) + torch.log(self.weights.float())
        return torch.logsumexp(logp, dim=-1)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # The number of components is known only after fitting: resize before copying.
        for name in ("weights", "means", "scale_tril"):
            stored = state_dict.get(prefix + name)
            if isinstance(stored, Tensor):
                current = getattr(self, name)
                setattr(self, name, torch.empty_like(stored, device=current.device))
        super()._load_from_state_dict(state_dict, prefix, *args)


class BGMM(GeneratorModule):
    """Baseline: a Bayesian Gaussian mixture fitted directly on the events (Balanzá García).

    Not trained by gradient descent: :meth:`fit_events` fits the mixture once (the training
    loop records a one-row history); the checkpoint holds the mixture as tensors.
    """

    model_type: ClassVar[str] = "bgmm"
    params_type: ClassVar[type[ModelParams]] = BGMMParams
    hparams: BGMMParams
    iterative: ClassVar[bool] = False

    def __init__(self, features: int, params: BGMMParams | None = None) -> None:
        super().__init__(features, params or self.params_type())
        self.mixture = GaussianMixture(features)

    def fit_events(self, train: np.ndarray, weights: np.ndarray | None, *, seed: int) -> None:
        """Fit the mixture to the transformed training events (n, d) with weights (n,)."""
        hp = self.hparams
        owner = f"model type {self.model_type!r}"
        fit = {"components": hp.components, "max_iter": hp.max_iter, "seed": seed}
        self.mixture.fit(train, weights=weights, owner=owner, **fit)

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Mean negative log-likelihood (nats) of ``x`` (n, d), weighted: ``loss`` and ``nll``."""
        nll = -self.mixture.log_prob(x).float()
        nll = nll.mean() if weights is None else (nll * weights).mean()
        return {"loss": nll, "nll": nll}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space."""
        return self.mixture.sample(n, generator, owner=f"model type {self.model_type!r}")


class VAEBGMM(VAE):
    """beta-VAE whose latent codes mu_i of the training events get a Bayesian Gaussian mixture.

    Trained as the naive beta-VAE (arXiv:1901.00875); sampling draws z from the mixture
    fitted to the encoder means instead of from N(0, 1) (Balanzá García).
    """

    model_type: ClassVar[str] = "vae_bgmm"
    takes_physics_loss: ClassVar[bool] = False  # samples its mixture, not the prior
    params_type: ClassVar[type[ModelParams]] = VAEBGMMParams
    hparams: VAEBGMMParams

    def __init__(self, features: int, params: VAEBGMMParams | None = None) -> None:
        super().__init__(features, params)
        self.mixture = GaussianMixture(self.hparams.latent)

    def prepare_sampling(
        self, train: Tensor, weights: Tensor | None = None, *, seed: int = 0
    ) -> None:
        """Fit the mixture to the encoder means of the training events (n, d), weights (n,)."""
        mu, _ = self.codes(train)
        w = None if weights is None else weights.double().cpu().numpy()
        hp = self.hparams
        self.mixture.fit(
            mu.cpu().numpy(),
            components=hp.components,
            max_iter=hp.max_iter,
            seed=seed,
            weights=w,
            owner=f"model type {self.model_type!r}",
        )

    def sample_latent(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw latent points (n, latent) from the mixture."""
        return self.mixture.sample(n, generator, owner=f"model type {self.model_type!r}")


class AlphaVAEBGMM(AlphaVAE, VAEBGMM):
    """alpha-VAE whose latent codes mu_i of the training events get a Bayesian Gaussian mixture.

    Balanzá García, Experiment III: the alpha-VAE is trained (encoder means, fixed noise
    N(0, alpha)), then the mixture is fitted to the encodings of the training events by the
    trained encoder, and events are generated by decoding draws from the mixture.
    """

    model_type: ClassVar[str] = "avae_bgmm"
    params_type: ClassVar[type[ModelParams]] = AlphaVAEBGMMParams
    hparams: AlphaVAEBGMMParams
    takes_physics_loss: ClassVar[bool] = False  # samples its mixture, not the prior
