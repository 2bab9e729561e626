"""Tests of the Spearman matrices and the norm of their difference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from hepgen.metrics.correlation import spearman_distance, spearman_matrix, weighted_ranks


def _correlated(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    return rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=n)


def test_matrix_matches_scipy_and_the_gaussian_formula() -> None:
    rng = np.random.default_rng(0)
    x = _correlated(rng, 20_000, 0.6)
    matrix = spearman_matrix(x)
    assert matrix[0, 1] == pytest.approx(spearmanr(x).statistic, abs=1e-12)
    # Spearman's rho of a bivariate normal: (6 / pi) arcsin(rho / 2).
    assert matrix[0, 1] == pytest.approx(6 / np.pi * np.arcsin(0.3), abs=0.015)


def test_distance_of_correlated_and_independent() -> None:
    rng = np.random.default_rng(1)
    truth, independent = _correlated(rng, 20_000, 0.6), rng.normal(size=(20_000, 2))
    rho_s = 6 / np.pi * np.arcsin(0.3)
    # Both off-diagonal entries differ by rho_s: Frobenius norm sqrt(2) rho_s.
    assert spearman_distance(truth, independent) == pytest.approx(np.sqrt(2) * rho_s, abs=0.03)
    assert spearman_distance(truth, truth.copy()) == 0.0


def test_ranks_and_weights() -> None:
    values = np.array([3.0, 1.0, 2.0, 2.0])
    np.testing.assert_allclose(weighted_ranks(values), rankdata(values) - 0.5)
    rng = np.random.default_rng(2)
    x = _correlated(rng, 4000, 0.5)
    doubled = np.concatenate([x, x[:1000]])
    weights = np.concatenate([np.ones(4000), np.zeros(0)])
    weights[:1000] = 2.0  # weight 2 equals the event twice
    assert spearman_matrix(x, weights)[0, 1] == pytest.approx(
        spearman_matrix(doubled)[0, 1], abs=1e-12
    )


def test_constant_column_has_zero_correlation() -> None:
    x = np.column_stack([np.arange(10.0), np.full(10, 2.0)])
    np.testing.assert_allclose(spearman_matrix(x), np.eye(2))
