"""Relative azimuthal angles and the uniformly drawn global rotation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepgen.errors import HepgenError
from hepgen.preprocessing import PhiRelative, Transform, wrap_phi


def _events(rng, n=400):
    pt2 = rng.exponential(30.0, n) + 20.0
    pt2[rng.random(n) < 0.3] = 0.0
    phi2 = np.where(pt2 > 0, rng.uniform(-np.pi, np.pi, n), 0.0)
    return pd.DataFrame(
        {
            "j1_pt": rng.exponential(30.0, n) + 40.0,
            "j1_phi": rng.uniform(-np.pi, np.pi, n),
            "j2_pt": pt2,
            "j2_phi": phi2,
            "met": rng.exponential(20.0, n),
            "met_phi": rng.uniform(-np.pi, np.pi, n),
        }
    )


@settings(max_examples=50, deadline=None)
@given(phi=st.floats(-100.0, 100.0))
def test_wrap_phi_range(phi):
    wrapped = wrap_phi(np.array([phi]))[0]
    assert -np.pi < wrapped <= np.pi
    assert np.cos(wrapped) == pytest.approx(np.cos(phi), abs=1e-9)
    if -np.pi < phi <= np.pi:
        assert wrapped == phi  # no rounding of angles that are already inside


def test_keep_mode_round_trip_and_padding(rng):
    table = _events(rng)
    step = PhiRelative("j1_phi", mode="keep")
    rel = step.forward(table)
    assert (rel.loc[table["j2_pt"] == 0, "j2_phi"] == 0).all()
    assert rel["met_phi"].between(-np.pi, np.pi).all()
    back = step.inverse(rel)
    np.testing.assert_allclose(np.cos(back - table), 1.0, atol=1e-12)


def test_uniform_mode_drops_reference_and_draws_it(rng):
    table = _events(rng, 5000)
    transform = Transform.from_rules(
        list(table.columns),
        [
            {"match": "*_pt", "chain": [{"log": {"offset": 1.0}}, "standard"]},
            {"match": "*", "chain": ["standard"]},
        ],
        phi={"reference": "j1_phi", "mode": "uniform", "seed": 3},
    ).fit(table)
    assert "j1_phi" not in transform.features and transform.columns == list(table.columns)
    back = transform.inverse(transform.forward(table), rng=np.random.default_rng(1))
    assert list(back.columns) == list(table.columns)
    # the reference is uniform, the relative angles survive exactly
    assert np.histogram(back["j1_phi"], bins=10, range=(-np.pi, np.pi))[0].min() > 400
    delta_in = wrap_phi(table["met_phi"] - table["j1_phi"])
    delta_out = wrap_phi(back["met_phi"] - back["j1_phi"])
    np.testing.assert_allclose(np.cos(delta_out - delta_in), 1.0, atol=1e-6)
    assert (back.loc[table["j2_pt"] == 0, "j2_phi"] == 0).all()


def test_bad_reference_is_named(rng):
    with pytest.raises(HepgenError, match="'mu1_phi' is not a column"):
        Transform.from_rules(
            list(_events(rng).columns),
            [{"match": "*", "chain": ["standard"]}],
            phi={"reference": "mu1_phi"},
        )


def test_back_to_back_pair_is_centred(rng):
    n = 2000
    phi1 = rng.uniform(-np.pi, np.pi, n)
    table = pd.DataFrame(
        {
            "j1_pt": np.full(n, 50.0),
            "j1_phi": phi1,
            "j2_pt": np.full(n, 45.0),
            "j2_phi": wrap_phi(phi1 + np.pi + rng.normal(0, 0.1, n)),
        }
    )
    step = PhiRelative("j1_phi", mode="keep").fit(table)
    assert abs(step.centres["j2_phi"]) == pytest.approx(np.pi, abs=0.02)
    rel = step.forward(table)
    assert rel["j2_phi"].std() == pytest.approx(0.1, rel=0.1), "one peak at 0, not two at ±π"
    np.testing.assert_allclose(
        np.cos(step.inverse(rel)["j2_phi"] - table["j2_phi"]), 1.0, atol=1e-12
    )
