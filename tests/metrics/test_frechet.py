"""Tests of the Fréchet physics distance (arXiv:2211.10295)."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.frechet import fpd, frechet_distance, max_abs_normalise


def test_closed_form_of_two_gaussians() -> None:
    mu1, mu2 = np.array([0.0, 1.0]), np.array([0.5, 1.0])
    cov1, cov2 = np.diag([1.0, 4.0]), np.diag([4.0, 4.0])
    # |dmu|^2 + sum (sigma1 - sigma2)^2 for commuting covariances: 0.25 + (1 - 2)^2.
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(1.25)
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    full = rotation @ np.diag([1.0, 9.0]) @ rotation.T
    assert frechet_distance(mu1, full, mu1, full) == pytest.approx(0.0, abs=1e-9)


def test_shifted_gaussians_give_the_analytic_distance() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(20_000, 3))
    generated = rng.normal(size=(20_000, 3)) * [1.0, 2.0, 1.0] + [0.5, 0.0, 0.0]
    value, err = fpd(truth, generated, normalise=False, seed=1)
    assert value == pytest.approx(0.25 + 1.0, abs=max(3 * err, 0.02))
    assert 0 < err < 0.05


def test_one_distribution_extrapolates_to_zero() -> None:
    rng = np.random.default_rng(1)
    value, err = fpd(rng.normal(size=(5000, 4)), rng.normal(size=(5000, 4)), seed=2)
    # The infinite-N extrapolation removes the 1/N bias of the finite-sample distance.
    assert value < 3 * err + 2e-4


def test_normalisation_and_errors() -> None:
    truth, other = np.array([[2.0, 0.0], [-4.0, 0.0]]), np.array([[8.0, 1.0]])
    x, y = max_abs_normalise(truth, [other])
    np.testing.assert_allclose(x, [[0.5, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(y, [[2.0, 1.0]])  # a column that is zero in the truth: unscaled
    with pytest.raises(HepgenError, match=r"FPD.*at least 30 generated.*8 features.*found 29"):
        fpd(np.ones((100, 8)), np.ones((29, 8)))
