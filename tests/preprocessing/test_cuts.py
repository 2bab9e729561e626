"""Tail cuts fitted on the training split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.preprocessing import apply_cuts, fit_cuts


def test_cuts_remove_the_configured_tail_and_keep_padding(rng):
    n = 10_000
    e = rng.exponential(100.0, n)
    e[:1000] = 0.0  # absent objects
    train = pd.DataFrame({"j_e": e, "met": rng.exponential(10.0, n)})
    cuts = fit_cuts(
        train, ["j_e", "met"], {"low": 0.0, "high": 1.0, "features": {"*_e": {"high": 0.99}}}
    )
    assert set(cuts) == {"j_e"}
    kept, removed = apply_cuts(train, cuts)
    assert removed == pytest.approx(0.009, abs=0.001)  # 1 % of the 9,000 present values
    assert (kept["j_e"] == 0).sum() == 1000
    assert kept["j_e"].max() <= cuts["j_e"][1]


def test_no_cut_configured_keeps_everything(rng):
    train = pd.DataFrame({"x": rng.normal(size=100)})
    kept, removed = apply_cuts(train, fit_cuts(train, ["x"], {}))
    assert removed == 0.0 and len(kept) == 100


def test_bad_quantiles_are_named():
    train = pd.DataFrame({"met": np.arange(10.0)})
    with pytest.raises(HepgenError, match="'met'.*low < high"):
        fit_cuts(train, ["met"], {"low": 0.5, "high": 0.2})
