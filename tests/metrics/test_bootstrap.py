"""Tests of the bootstrap helpers."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.metrics.bootstrap import entry, nan_std, resamples


def test_nan_std_ignores_nan_and_needs_two_values() -> None:
    replicates = np.array([[1.0, np.nan, np.nan], [2.0, 5.0, np.nan], [4.0, 7.0, 3.0]])
    result = nan_std(replicates)
    assert result[0] == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1))
    assert result[1] == pytest.approx(np.std([5.0, 7.0], ddof=1))
    assert np.isnan(result[2])


def test_resamples_are_reproducible_and_have_the_sample_sizes() -> None:
    first = resamples(np.random.default_rng(3), 10, 7, 4)
    second = resamples(np.random.default_rng(3), 10, 7, 4)
    assert len(first) == 4
    for (a, b), (c, d) in zip(first, second, strict=True):
        assert a.shape == (10,) and b.shape == (7,)
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_bootstrap_std_of_a_mean_is_the_standard_error() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 2.0, 400)
    means = np.array([x[ia].mean() for ia, _ in resamples(rng, 400, 1, 500)])
    assert nan_std(means) == pytest.approx(2.0 / np.sqrt(400), rel=0.15)
    assert entry(1, 0.5, 2, 0.25) == {"value": 1.0, "err": 0.5, "floor": 2.0, "floor_err": 0.25}
