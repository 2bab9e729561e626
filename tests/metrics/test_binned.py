"""Tests of the binned comparisons: histogram edges, separation power, chi2/ndf."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.binned import (
    binned,
    chi2_ndf,
    histogram_edges,
    separation_of_histograms,
    separation_power,
)


def test_disjoint_histograms_give_separation_one_and_identical_zero() -> None:
    p, q = np.array([5.0, 5.0, 0.0, 0.0]), np.array([0.0, 0.0, 3.0, 7.0])
    assert separation_of_histograms(p, q) == pytest.approx(1.0)
    assert separation_of_histograms(p, 2 * p) == 0.0
    rng = np.random.default_rng(0)
    truth = rng.normal(0.0, 1.0, 5000)
    # Every generated event beyond the truth's range lands in the last bin (overflow), which
    # also holds the truth's top ~0.6 %: S = (1 - p) / 2 + (1 - p)^2 / (2 (1 + p)) ~ 0.988.
    far = rng.normal(50.0, 1.0, 5000)
    assert separation_power(truth, far)["x0"] == pytest.approx(0.985, abs=0.003)
    assert separation_power(truth, truth.copy())["x0"] == 0.0


def test_separation_of_two_samples_of_one_distribution_is_small() -> None:
    rng = np.random.default_rng(1)
    s = separation_power(rng.normal(size=20_000), rng.normal(size=20_000))["x0"]
    # Expected ~ (bins / 2) * (1/n + 1/m) / 2 ~ 1e-3 for 40 bins and 20k events each.
    assert 0.0 < s < 3e-3


def test_chi2_ndf_is_one_for_one_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(2)
    truth = rng.exponential(20.0, 20_000) + 25.0  # a falling pT spectrum [GeV]
    same = rng.exponential(20.0, 20_000) + 25.0
    shifted = rng.exponential(20.0, 20_000) + 27.0
    assert chi2_ndf(truth, same)["x0"] == pytest.approx(1.0, abs=0.35)
    assert chi2_ndf(truth, shifted)["x0"] > 10.0


def test_edges_cover_the_central_99_percent() -> None:
    values = np.random.default_rng(3).normal(size=100_000)
    edges = histogram_edges(values, bins=40)
    assert len(edges) == 41
    assert edges[0] == pytest.approx(-2.576, abs=0.03)  # 0.5 % quantile of N(0, 1)
    assert edges[-1] == pytest.approx(2.576, abs=0.03)
    # Multiplicities get one bin per integer, centred on it.
    np.testing.assert_array_equal(
        histogram_edges(np.array([2.0, 3.0, 3.0, 5.0])), np.arange(1.5, 6.0)
    )


def test_a_narrow_peak_on_a_long_tail_is_resolved() -> None:
    # m_ll: a Z peak (width 2.5 GeV) on a tail up to 1 TeV; the range keeps to the peak.
    rng = np.random.default_rng(4)
    mass = np.concatenate([91.2 + 2.5 * rng.standard_cauchy(20_000), rng.uniform(60, 1000, 400)])
    edges = histogram_edges(mass, bins=40)
    assert 60.0 < edges[0] < 85.0 and 97.0 < edges[-1] < 125.0
    assert np.diff(edges)[0] < 1.5  # GeV per bin: the peak spans several bins


def test_overflow_lands_in_the_edge_bins_and_fractions_sum_to_one() -> None:
    edges = np.array([0.0, 1.0, 2.0])
    fraction, error = binned(np.array([-5.0, 0.5, 1.5, 9.0]), edges)
    np.testing.assert_allclose(fraction, [0.5, 0.5])
    np.testing.assert_allclose(error, [np.sqrt(2) / 4, np.sqrt(2) / 4])
    weighted, _ = binned(np.array([0.5, 1.5]), edges, np.array([3.0, 1.0]))
    np.testing.assert_allclose(weighted, [0.75, 0.25])
    # The upper edge itself belongs to the last bin; without flow, outside events drop out.
    np.testing.assert_allclose(binned(np.array([2.0, 0.5]), edges)[0], [0.5, 0.5])
    np.testing.assert_allclose(
        binned(np.array([-5.0, 0.5, 1.5, 9.0]), edges, flow=False)[0], [0.25, 0.25]
    )


def test_bad_input_is_named() -> None:
    with pytest.raises(HepgenError, match=r"separation power.*at least 10 generated.*found 3"):
        separation_power(np.arange(50.0), np.arange(3.0))
    truth = np.arange(50.0)
    bad = truth.copy()
    bad[4] = np.inf
    with pytest.raises(HepgenError, match=r"chi2/ndf.*generated.*'x0': 1 of 50"):
        chi2_ndf(truth, bad)
