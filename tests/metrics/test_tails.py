"""Tests of the tail ratios above high truth quantiles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from hepgen.errors import HepgenError
from hepgen.metrics.tails import tail_ratio_1d, tail_ratios


def test_a_narrower_generator_undershoots_the_tail_by_the_analytic_factor() -> None:
    rng = np.random.default_rng(0)
    truth, narrow = rng.normal(size=400_000), rng.normal(0.0, 0.8, 400_000)
    ratio = tail_ratios(truth, narrow)["x0"]
    # P(N(0, 0.8^2) > z_0.99) / 0.01 = (1 - Phi(2.326 / 0.8)) / 0.01 = 0.18.
    assert ratio[0.99] == pytest.approx((1 - norm.cdf(norm.ppf(0.99) / 0.8)) / 0.01, rel=0.05)
    assert ratio[0.999] < 0.1


def test_independent_samples_average_one_even_far_out() -> None:
    # With 1500 events only ~1.5 lie above the 99.9 % quantile: the expected fraction beyond
    # an order statistic keeps the ratio unbiased.
    rng = np.random.default_rng(1)
    ratios = [
        tail_ratio_1d(rng.exponential(size=1500), rng.exponential(size=1500), level=0.999)
        for _ in range(400)
    ]
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.12)


def test_a_feature_without_a_tail_is_left_out() -> None:
    constant = np.full(500, 2.0)  # a multiplicity fixed by the selection
    rng = np.random.default_rng(2)
    table = np.column_stack([constant, rng.normal(size=500)])
    result = tail_ratios(table, table.copy())
    assert list(result) == ["x1"]


def test_bad_level() -> None:
    with pytest.raises(HepgenError, match=r"levels must lie in \(0, 1\)"):
        tail_ratios(np.arange(20.0), np.arange(20.0), levels=(1.5,))
