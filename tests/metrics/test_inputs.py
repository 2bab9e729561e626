"""Tests of the shared metric input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.inputs import as_table, check_finite, column_weights, pair_weights


def test_arrays_become_named_float_columns() -> None:
    table = as_table(np.arange(6).reshape(3, 2), features=None, metric="m", role="truth")
    assert list(table.columns) == ["x0", "x1"]
    assert table.dtypes.tolist() == [np.float64, np.float64]
    with pytest.raises(HepgenError, match=r"shape \(n,\) or \(n, d\).*\(2, 2, 2\)"):
        as_table(np.zeros((2, 2, 2)), features=None, metric="m", role="truth")


def test_non_numeric_feature_is_named() -> None:
    table = pd.DataFrame({"mu1_pt": ["a", "b"]})
    with pytest.raises(HepgenError, match=r"m: the generated feature columns \['mu1_pt'\]"):
        as_table(table, features=["mu1_pt"], metric="m", role="generated")


def test_weight_column_of_each_table() -> None:
    truth = pd.DataFrame({"met": [1.0, 2.0], "weight": [0.5, 1.5]})
    generated = pd.DataFrame({"met": [1.0, 2.0, 3.0]})
    w_truth, w_generated = column_weights(truth, generated, "weight", metric="m")
    np.testing.assert_array_equal(w_truth, [0.5, 1.5])
    assert w_generated is None
    assert column_weights(truth, generated, None, metric="m") == (None, None)
    truth.loc[1, "weight"] = np.nan
    with pytest.raises(HepgenError, match=r"column 'weight'.*truth weights.*1 NaN/inf"):
        column_weights(truth, generated, "weight", metric="m")


def test_weights_must_be_a_pair() -> None:
    with pytest.raises(HepgenError, match="pair"):
        pair_weights(np.ones(3), 3, 3, metric="m")  # type: ignore[arg-type]
    with pytest.raises(HepgenError, match="sum to zero"):
        pair_weights((np.zeros(3), None), 3, 3, metric="m")


def test_missing_values_may_be_allowed_but_never_infinities() -> None:
    table = pd.DataFrame({"m_jj_w": [80.0, np.nan, 81.0], "ht": [200.0, 210.0, np.inf]})
    with pytest.raises(
        HepgenError, match=r"NaN or infinite values in columns 'm_jj_w': 1 of 3, 'ht'"
    ):
        check_finite(table, metric="m", role="generated")
    with pytest.raises(HepgenError, match=r"hold infinite values in columns 'ht': 1 of 3"):
        check_finite(table, metric="m", role="generated", allow_nan=True)
    check_finite(table[["m_jj_w"]], metric="m", role="generated", allow_nan=True)
