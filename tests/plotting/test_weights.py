"""Tests of the figure of a reweighted sample's classifier weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.plotting.weights import plot_weights


def _dimuon_sample(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = {}
    for k in (1, 2):
        pt = 20.0 + rng.exponential(25.0, n)
        table |= {
            f"mu{k}_pt": pt,
            f"mu{k}_eta": rng.uniform(-2.4, 2.4, n),
            f"mu{k}_phi": rng.uniform(-np.pi, np.pi, n),
        }
        table[f"mu{k}_e"] = np.sqrt((pt * np.cosh(table[f"mu{k}_eta"])) ** 2 + 0.10566**2)
    return pd.DataFrame(table)


def test_the_weight_distribution_and_the_mean_weight_per_mass_bin(tmp_path: Path, panels) -> None:
    sample = _dimuon_sample()
    rng = np.random.default_rng(2)
    weights = np.exp(rng.normal(0.0, 0.3, len(sample)))
    weights[:5] = 0.0  # unusable events: left out
    sample["weight"] = weights / weights[5:].mean()
    info = {"ess_fraction": 0.912, "clipped": 3, "clip": 20.0}
    path = tmp_path / "weights.png"
    figure = plot_weights(sample, info, path=path, title="dy: flow+rw")
    assert path.is_file()
    left, right = panels(figure)[:2]
    assert (left.get_xlabel(), left.get_ylabel()) == ("log10 w", "events")
    counts, edges = left.patches[0].get_data()[:2]
    assert counts.sum() == len(sample) - 5  # every weighted event, none of the unusable
    logs = np.log10(sample["weight"][5:])
    assert edges[0] == pytest.approx(logs.min()) and edges[-1] == pytest.approx(logs.max())
    assert "m" in right.get_xlabel() and right.get_ylabel() == "mean weight"
    mean = right.lines[0].get_ydata()
    assert np.nanmean(mean) == pytest.approx(1.0, abs=0.1)
    assert figure.get_suptitle() == "dy: flow+rw: classifier weights, ESS 91.2 %, 3 clipped at 20"


def test_a_sample_without_an_invariant_mass_gets_one_panel(tmp_path: Path, panels) -> None:
    sample = pd.DataFrame({"met": np.linspace(1, 100, 50), "weight": np.linspace(0.5, 1.5, 50)})
    figure = plot_weights(sample, {"ess_fraction": 0.9}, path=tmp_path / "w.png", title="t")
    assert len(panels(figure)) == 1


def test_a_sample_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HepgenError, match="no 'weight' column"):
        plot_weights(_dimuon_sample(), {}, path=tmp_path / "w.png", title="t")
