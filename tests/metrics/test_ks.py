"""Tests of the Kolmogorov-Smirnov statistic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp, norm

from hepgen.metrics.ks import ks_statistics, weighted_cdf


def test_unweighted_equals_scipy() -> None:
    rng = np.random.default_rng(0)
    truth, generated = rng.normal(size=(700, 2)), rng.normal(0.2, 1.1, size=(900, 2))
    result = ks_statistics(truth, generated)
    for i in range(2):
        assert result[f"x{i}"] == pytest.approx(ks_2samp(truth[:, i], generated[:, i]).statistic)


def test_limits_and_analytic_shift() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=50_000)
    assert ks_statistics(x, x.copy())["x0"] == 0.0
    assert ks_statistics(x, x + 100.0)["x0"] == 1.0
    # Two unit Gaussians shifted by delta: D = 2 Phi(delta / 2) - 1.
    d = ks_statistics(x, rng.normal(0.5, 1.0, 50_000))["x0"]
    assert d == pytest.approx(2 * norm.cdf(0.25) - 1, abs=0.012)


def test_weights_reproduce_the_target() -> None:
    rng = np.random.default_rng(2)
    flat = rng.uniform(-4.0, 4.0, 40_000)
    truth = rng.normal(size=40_000)
    assert ks_statistics(truth, flat, (None, norm.pdf(flat)))["x0"] < 0.02
    assert ks_statistics(truth, flat)["x0"] > 0.2


def test_weighted_cdf_steps() -> None:
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0])
    np.testing.assert_allclose(
        weighted_cdf(values, weights, np.array([0.0, 1.0, 2.5, 3.0])), [0.0, 0.5, 0.75, 1.0]
    )
