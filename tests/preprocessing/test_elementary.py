"""Quantile and discrete transforms: round trips, ties, extremes and valid discrete values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hepgen.errors import HepgenError
from hepgen.preprocessing import make

values = arrays(
    np.float64,
    st.integers(20, 400),
    elements=st.one_of(st.just(0.0), st.floats(1e-2, 1e5), st.floats(-1e3, -1e-2)),
)


@settings(max_examples=60, deadline=None)
@given(x=values, quantiles=st.integers(10, 500))
def test_quantile_round_trip_with_ties_and_extremes(x, quantiles):
    step = make({"quantile": {"quantiles": quantiles}}).fit(x, "f")
    y = step.forward(x)
    assert np.all(np.isfinite(y)) and np.all(np.abs(y) <= 6.0)
    back = step.inverse(y.astype(np.float32))
    scale = max(1.0, np.ptp(x))
    np.testing.assert_allclose(back, x, atol=2e-5 * scale)


def test_quantile_output_is_standard_normal():
    x = np.random.default_rng(0).lognormal(3.0, 1.0, 50_000)
    y = make({"quantile": {"quantiles": 1000}}).fit(x, "f").forward(x)
    assert np.mean(y) == pytest.approx(0.0, abs=0.01)
    assert np.std(y) == pytest.approx(1.0, abs=0.02)


def test_quantile_rejects_too_few_quantiles():
    with pytest.raises(HepgenError, match="'nj'.*at least 10 quantiles"):
        make({"quantile": {"quantiles": 3}}).fit(np.arange(100.0), "nj")


@settings(max_examples=60, deadline=None)
@given(
    x=arrays(np.float64, st.integers(1, 200), elements=st.sampled_from([-1.0, 0.0, 1.0, 2.0, 7.0])),
    noise=st.floats(-0.49, 0.49),
)
def test_discrete_round_trip_and_rounding(x, noise):
    step = make("discrete").fit(x, "n")
    y = step.forward(x)
    np.testing.assert_array_equal(step.inverse(y), x)
    np.testing.assert_array_equal(step.inverse(y + noise), x)
    wild = step.inverse(np.array([-50.0, 1e6]))
    assert set(wild) <= set(np.unique(x)), "every generated value is a value seen in training"


def test_discrete_rejects_continuous_features():
    with pytest.raises(HepgenError, match="'met'.*distinct values"):
        make("discrete").fit(np.linspace(0, 1, 1000), "met")


def test_dequantised_discrete_fills_blocks_and_rounds_back():
    """With dequantize, each value becomes a block of width 1 around its index (no point
    masses for a density model), the same on every call, and inverse gives the values back."""
    x = np.repeat([0.0, 1.0], [300, 700])
    step = make({"discrete": {"dequantize": True, "seed": 3}}).fit(x, "reco_found")
    y = step.forward(x)
    assert np.unique(y).size == x.size
    assert np.all(np.abs(y - x) <= 0.5)
    np.testing.assert_array_equal(step.forward(x), y)
    np.testing.assert_array_equal(step.inverse(y), x)
    again = make(step.to_dict())
    np.testing.assert_array_equal(again.forward(x), y)
