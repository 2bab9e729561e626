"""Tests for the Gaussian copula of latent codes (copula VAE, Stevenson (2022))."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.models.copula import CopulaVAE, fit_copula, sample_copula


def test_copula_keeps_marginals_and_rank_correlation() -> None:
    rng = np.random.default_rng(0)
    g = rng.multivariate_normal([0, 0], [[1.0, 0.7], [0.7, 1.0]], size=20000)
    codes = np.stack([np.exp(g[:, 0]), g[:, 1] ** 3], axis=1)  # skewed, heavy-tailed marginals
    quantiles, chol = fit_copula(torch.as_tensor(codes, dtype=torch.float32), knots=512)
    z = sample_copula(quantiles, chol, 20000, torch.Generator().manual_seed(1)).numpy()
    for j in range(2):
        probs = [0.05, 0.25, 0.5, 0.75, 0.95]
        assert np.quantile(z[:, j], probs) == pytest.approx(
            np.quantile(codes[:, j], probs), rel=0.05, abs=0.02
        )
    assert spearmanr(z).statistic == pytest.approx(spearmanr(codes).statistic, abs=0.03)


def test_copula_vae_needs_its_fit_and_samples_its_codes() -> None:
    model = build("copula_vae", 3, {"latent": 2, "hidden": 8, "layers": 2, "knots": 64})
    assert isinstance(model, CopulaVAE)
    with pytest.raises(HepgenError, match="no fitted latent copula"):
        model.sample(2, torch.Generator())
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
    model.prepare_sampling(x)
    mu, _ = model.codes(x)
    z = model.sample_latent(5000, torch.Generator().manual_seed(2))
    assert z.min() >= mu.min() and z.max() <= mu.max()  # no extrapolation beyond the codes
    assert z.median(dim=0).values.numpy() == pytest.approx(
        mu.median(dim=0).values.numpy(), abs=0.05 * mu.std().item()
    )
