"""Tests of the data-copying test (Meehan et al., arXiv:2004.05675)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from hepgen.errors import HepgenError
from hepgen.metrics.memorisation import copying_entries, data_copying, mann_whitney_z


def test_z_score_matches_scipy_u_statistic() -> None:
    rng = np.random.default_rng(0)
    reference, query = rng.normal(size=300), rng.normal(0.3, 1.0, 200)
    u = mannwhitneyu(query, reference).statistic
    m, n = 200, 300
    assert mann_whitney_z(reference, query) == pytest.approx(
        (u - m * n / 2) / np.sqrt(m * n * (m + n + 1) / 12)
    )
    assert mann_whitney_z(reference, query) > 0  # the query is larger


def test_replayed_training_events_are_caught() -> None:
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(4000, 5)), rng.normal(size=(1000, 5))
    copies = train[rng.integers(0, 4000, 1000)] + 0.01 * rng.normal(size=(1000, 5))
    fresh = rng.normal(size=(1000, 5))
    broad = 1.5 * rng.normal(size=(1000, 5))  # misses the training set: "underfitting"
    copied = data_copying(train, test, copies, seed=0)
    assert copied["z_u"] < -10 and copied["distance_ratio"] < 0.1
    independent = data_copying(train, test, fresh, seed=0)
    assert abs(independent["z_u"]) < 3 and independent["distance_ratio"] == pytest.approx(
        1, abs=0.1
    )
    assert data_copying(train, test, broad, seed=0)["z_u"] > 5


def test_bad_input() -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(HepgenError, match="same number of features"):
        data_copying(rng.normal(size=(50, 3)), rng.normal(size=(50, 3)), rng.normal(size=(50, 2)))
    with pytest.raises(HepgenError, match=r"data copying.*at least 5 generated events, found 2"):
        data_copying(rng.normal(size=(50, 3)), rng.normal(size=(50, 3)), rng.normal(size=(2, 3)))


def test_entries_have_floors_and_uncertainties() -> None:
    rng = np.random.default_rng(3)
    train, test = rng.normal(size=(3000, 4)), rng.normal(size=(600, 4))
    queries = {
        "value": train[rng.integers(0, 3000, 600)] + 0.02 * rng.normal(size=(600, 4)),
        "floor": rng.normal(size=(600, 4)),
    }
    result = copying_entries(train, test, queries, seed=1, cells=5, bootstrap=10)
    z, ratio = result["z_u"], result["distance_ratio"]
    assert z["value"] < -8 and abs(z["floor"]) < 3
    assert 0.3 < z["floor_err"] < 3  # a Z score: about unit spread
    assert ratio["value"] < 0.2 and ratio["floor"] == pytest.approx(1.0, abs=0.15)
    assert ratio["err"] > 0 and ratio["floor_err"] > 0
    with pytest.raises(HepgenError, match="too few events per k-means cell"):
        copying_entries(
            train, test[:4], {"value": test[:4], "floor": test[:4]}, seed=1, cells=5, bootstrap=3
        )
