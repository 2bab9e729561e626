"""Tests of the quantile MSE* (Butter et al., arXiv:2008.06545)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from hepgen.errors import HepgenError
from hepgen.metrics.quantiles import quantile_mse


def test_identical_is_zero_and_beyond_the_range_is_one_minus_one_over_nq() -> None:
    x = np.random.default_rng(0).exponential(20.0, 4000)
    assert quantile_mse(x, x.copy(), quantiles=10)["x0"] == pytest.approx(0.0, abs=1e-12)
    assert quantile_mse(x, x + 1e4, quantiles=10)["x0"] == pytest.approx(0.9)


def test_shifted_gaussian_matches_the_analytic_value() -> None:
    n_q, delta = 20, 0.3
    edges = norm.ppf(np.arange(1, n_q) / n_q)
    p = np.diff(np.concatenate([[0.0], norm.cdf(edges - delta), [1.0]]))
    expected = np.sum((p - 1.0 / n_q) ** 2)
    rng = np.random.default_rng(1)
    found = quantile_mse(rng.normal(size=200_000), rng.normal(delta, 1, 200_000), quantiles=n_q)
    assert found["x0"] == pytest.approx(expected, rel=0.1)


def test_discrete_feature_merges_cells() -> None:
    truth = np.repeat([2.0, 3.0], [750, 250])  # e.g. a muon multiplicity
    assert quantile_mse(truth, truth[::-1].copy())["x0"] == pytest.approx(0.0)
    # All generated events at 3: fractions (0, 1) against (0.75, 0.25).
    assert quantile_mse(truth, np.full(500, 3.0))["x0"] == pytest.approx(0.75**2 + 0.75**2)


def test_bad_quantiles() -> None:
    with pytest.raises(HepgenError, match="quantiles must be an integer >= 2"):
        quantile_mse(np.arange(100.0), np.arange(100.0), quantiles=1)
