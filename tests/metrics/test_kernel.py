"""Tests of the kernel physics distance (unbiased MMD^2, arXiv:2211.10295)."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.metrics.kernel import kpd, mmd2_unbiased


def _brute_force(x: np.ndarray, y: np.ndarray, degree: int) -> float:
    d = x.shape[1]

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return (a @ b / d + 1.0) ** degree

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_unbiased_estimator_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(9, 3))
    for degree in (3, 4):
        assert mmd2_unbiased(x, y, degree=degree) == pytest.approx(_brute_force(x, y, degree))


def test_one_distribution_scores_zero_and_a_shift_does_not() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(3000, 3))
    same, err_same = kpd(truth, rng.normal(size=(3000, 3)), batch_size=1000, seed=2)
    shifted, err_shifted = kpd(
        truth, rng.normal(size=(3000, 3)) + [0.5, 0, 0], batch_size=1000, seed=2
    )
    assert abs(same) < 3 * err_same + 1e-4
    assert shifted > 3 * err_shifted
    assert shifted > 10 * abs(same)
