"""The one 1-Wasserstein distance shared by epoch selection and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from hepgen.metrics.wasserstein import w1_1d
from hepgen.stats import wasserstein_1
from hepgen.training.selection import mean_w1


def test_matches_scipy_column_by_column_with_weights() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 3)), rng.normal(0.3, 1.5, size=(200, 3))
    wa, wb = rng.uniform(0.1, 2, 300), rng.uniform(0.1, 2, 200)
    expected = [wasserstein_distance(a[:, j], b[:, j], wa, wb) for j in range(3)]
    assert wasserstein_1(a, b, wa, wb) == pytest.approx(expected, rel=1e-10)
    assert float(wasserstein_1(a[:, 1], b[:, 1], wa, wb)) == pytest.approx(expected[1], rel=1e-10)


def test_a_shift_is_its_size_and_negative_weights_cancel() -> None:
    x = np.linspace(0.0, 1.0, 101)
    assert float(wasserstein_1(x + 0.25, x)) == pytest.approx(0.25)
    # the event at 1 is cancelled by a negative one: what remains is a point mass at 0
    signed = wasserstein_1(np.array([0.0, 1.0, 1.0]), np.zeros(4), np.array([1.0, 1.0, -1.0]))
    assert float(signed) == pytest.approx(0.0, abs=1e-12)


def test_selection_and_metrics_agree() -> None:
    """The epoch-selection distance is the mean of the metric's unnormalised W1 over features."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(500, 4)), rng.normal(0.1, 1.2, size=(400, 4))
    scales = a.std(axis=0)
    per_feature = [w1_1d(a[:, j], b[:, j]) * scales[j] for j in range(4)]
    assert mean_w1(a, b) == pytest.approx(np.mean(per_feature), rel=1e-12)
