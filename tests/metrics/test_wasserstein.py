"""Tests of the normalised per-feature 1-Wasserstein distance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from hepgen.errors import HepgenError
from hepgen.metrics.wasserstein import w1_distances, weighted_std


def _table(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mu1_pt": rng.normal(45.0 + 12.0 * shift, 12.0, n),  # GeV
            "mu1_eta": rng.normal(shift, 1.0, n),
        }
    )


def test_identical_samples_give_exactly_zero() -> None:
    table = _table(np.random.default_rng(0), 500)
    assert w1_distances(table, table.copy()) == {"mu1_pt": 0.0, "mu1_eta": 0.0}


@pytest.mark.parametrize("delta", [0.1, 0.5, 2.0])
def test_shifted_gaussians_give_the_shift_in_units_of_sigma(delta: float) -> None:
    rng = np.random.default_rng(1)
    result = w1_distances(_table(rng, 40_000), _table(rng, 40_000, shift=delta))
    # W1 of two equal-width Gaussians is the mean shift; in units of sigma it is delta,
    # whatever the feature's unit (GeV or none).
    assert result["mu1_pt"] == pytest.approx(delta, rel=0.02, abs=0.02)
    assert result["mu1_eta"] == pytest.approx(delta, rel=0.02, abs=0.02)


def test_arrays_and_feature_selection() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + [0.0, 1.0]
    result = w1_distances(x, y)
    assert set(result) == {"x0", "x1"}
    assert result["x1"] == pytest.approx(1.0, abs=0.08)
    table = _table(rng, 300)
    assert list(w1_distances(table, table, features=["mu1_eta"])) == ["mu1_eta"]


def test_weights_reproduce_the_target_distribution() -> None:
    # Truth: standard normal. Generated: uniform on [-4, 4], weighted by the normal density,
    # so it equals the truth in distribution after weighting.
    rng = np.random.default_rng(3)
    truth = rng.normal(size=20_000)
    flat = rng.uniform(-4.0, 4.0, 20_000)
    weighted = w1_distances(truth, flat, (None, norm.pdf(flat)))["x0"]
    unweighted = w1_distances(truth, flat)["x0"]
    assert weighted < 0.03
    assert unweighted > 0.5


def test_truth_weights_enter_the_normalisation() -> None:
    values = np.array([0.0, 0.0, 1.0, 1.0])
    assert weighted_std(values) == pytest.approx(0.5)
    # Weights (3, 3, 1, 1): mean 0.25, variance 0.1875.
    assert weighted_std(values, np.array([3.0, 3.0, 1.0, 1.0])) == pytest.approx(0.1875**0.5)


def test_nan_names_column_and_count() -> None:
    table = _table(np.random.default_rng(4), 100)
    bad = table.copy()
    bad.loc[[3, 7], "mu1_eta"] = [np.nan, np.inf]
    with pytest.raises(HepgenError, match=r"W1.*generated.*'mu1_eta': 2"):
        w1_distances(table, bad)


def test_missing_column_is_listed() -> None:
    table = _table(np.random.default_rng(5), 100)
    with pytest.raises(HepgenError, match=r"W1.*generated.*\['mu1_eta'\]"):
        w1_distances(table, table[["mu1_pt"]])


def test_repeated_feature_is_refused() -> None:
    table = _table(np.random.default_rng(6), 10)
    with pytest.raises(HepgenError, match=r"\['mu1_pt'\] are listed more than once"):
        w1_distances(table, table, features=["mu1_pt", "mu1_eta", "mu1_pt"])


def test_too_few_events() -> None:
    with pytest.raises(HepgenError, match="at least 2 generated events, found 1"):
        w1_distances(np.zeros(10) + np.arange(10), np.ones(1))


def test_negative_or_misshaped_weights_are_refused() -> None:
    x = np.arange(10.0)
    with pytest.raises(HepgenError, match="1 negative"):
        w1_distances(x, x, (np.r_[-1.0, np.ones(9)], None))
    with pytest.raises(HepgenError, match="expected 10 generated weights.*found 9"):
        w1_distances(x, x, (None, np.ones(9)))


def test_constant_truth_feature() -> None:
    constant = np.full(50, 2.0)  # e.g. a multiplicity fixed by the selection
    assert w1_distances(constant, constant.copy())["x0"] == 0.0
    with pytest.raises(HepgenError, match="constant"):
        w1_distances(constant, constant + 0.1)
