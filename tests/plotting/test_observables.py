"""Tests of the physics-observable histograms of one model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepgen.errors import HepgenError
from hepgen.plotting.labels import feature_label
from hepgen.plotting.observables import SUBJECT, plot_observables


def _dimuons(seed: int, n: int, *, single: float = 0.0) -> pd.DataFrame:
    """Two massless muons and missing momentum; ``single``: fraction of one-muon events."""
    rng = np.random.default_rng(seed)
    table = {}
    for k in (1, 2):
        pt, eta = rng.exponential(15.0, n) + 25.0, rng.normal(0.0, 1.3, n)
        table |= {
            f"mu{k}_pt": pt,
            f"mu{k}_eta": eta,
            f"mu{k}_phi": rng.uniform(-np.pi, np.pi, n),
            f"mu{k}_e": pt * np.cosh(eta),
        }
    events = pd.DataFrame(table | {"met": rng.exponential(10.0, n), "weight": np.ones(n)})
    events["met_phi"] = rng.uniform(-np.pi, np.pi, n)
    lone = rng.uniform(size=n) < single
    events.loc[lone, ["mu2_pt", "mu2_eta", "mu2_phi", "mu2_e"]] = 0.0  # absent second muon
    return events


def _metrics(names: list[str], make_entry) -> dict:
    return {
        "observables": {name: {"truth": 1.0, "generated": 1.0} for name in names},
        "w1_obs": {"observables": {"m_mumu": make_entry(0.2, 0.03)}, "mean": {}},
    }


def test_one_panel_pair_per_compared_observable(
    tmp_path: Path, panels, legends, make_entry
) -> None:
    names = ["m_mumu", "pt_mumu", "dr_mumu", "mt"]
    figure = plot_observables(
        _dimuons(0, 600),
        _dimuons(1, 800, single=0.25),
        metrics=_metrics(names, make_entry),
        path=tmp_path / "observables.png",
        dataset="dy_mumu",
        model="vae",
    )
    shown = panels(figure)
    assert len(shown) == 2 * len(names)
    mains, ratios = shown[0::2], shown[1::2]
    assert [ax.get_xlabel() for ax in ratios] == [feature_label(n) for n in names]
    assert [ax.get_xlabel() for ax in ratios][0] == r"$m_{\mu\mu}$ [GeV]"
    assert [t.get_text() for t in mains[0].texts] == ["W1/σ 0.200 ± 0.010\nfloor 0.030 ± 0.005"]
    assert legends(figure) == [["truth (test split)", "vae", "truth stat. uncertainty"]]
    assert figure.legends[0].get_title().get_text() == f"dy_mumu: vae, {SUBJECT}"
    # the generated one-muon events have no pair observables: left out and said so
    assert "undefined are left out" in " ".join(figure.get_supxlabel().split())
    assert (tmp_path / "observables.png").is_file()

    fewer = plot_observables(
        _dimuons(0, 300),
        _dimuons(1, 300),
        metrics=_metrics(names[:2], make_entry),
        path=tmp_path / "observables.png",
        dataset="dy_mumu",
        model="vae",
    )
    assert len(panels(fewer)) == 4


def test_an_observable_the_events_lack_is_named(tmp_path: Path, make_entry) -> None:
    with pytest.raises(HepgenError, match=r"lacks.*\['ht'\]"):
        plot_observables(
            _dimuons(0, 100),
            _dimuons(1, 100),
            metrics=_metrics(["m_mumu", "ht"], make_entry),
            path=tmp_path / "o.png",
            dataset="d",
            model="m",
        )
    assert list(tmp_path.iterdir()) == []


def test_an_observable_no_generated_event_defines_gets_no_panel_and_is_named(
    tmp_path: Path, panels, make_entry
) -> None:
    metrics = _metrics(["m_mumu", "pt_mumu", "mt"], make_entry)
    figure = plot_observables(
        _dimuons(0, 300),
        _dimuons(1, 300, single=1.0),  # no generated event has two muons
        metrics=metrics,
        path=tmp_path / "observables.png",
        dataset="dy_mumu",
        model="vae",
    )
    ratios = panels(figure)[1::2]
    assert [ax.get_xlabel() for ax in ratios] == [feature_label("mt")]
    title = figure.legends[0].get_title().get_text()
    assert title == f"dy_mumu: vae, {SUBJECT} (defined in no event of one sample: m_mumu, pt_mumu)"
