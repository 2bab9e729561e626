"""Tests of the before/after preprocessing figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hepgen.plotting.labels import feature_label
from hepgen.plotting.preprocessing import plot_preprocessing, preprocessing_view
from hepgen.preprocessing import Transform

RULES = [
    {"match": "*_pt", "chain": [{"log": {"offset": 1.0}}, "standard"]},
    {"match": "*", "chain": ["standard"]},
]


def _events(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "mu1_pt": rng.exponential(15.0, n) + 25.0,
            "mu1_phi": rng.uniform(-np.pi, np.pi, n),
            "mu2_pt": rng.exponential(10.0, n) + 20.0,
            "mu2_phi": rng.uniform(-np.pi, np.pi, n),
            "met": rng.exponential(10.0, n),
        }
    )


def test_two_panels_per_feature(tmp_path: Path, panels) -> None:
    table = _events()
    features = list(table.columns)
    inputs = np.random.default_rng(0).normal(size=(len(table), len(features)))
    path = tmp_path / "preprocessing.png"
    open_figures = plt.get_fignums()
    figure = plot_preprocessing(
        table, inputs, features=features, path=path, title="dy_mumu", labels={"met": "MET"}
    )
    shown = panels(figure)
    assert len(shown) == 2 * len(features)
    # a block of four columns, then the fifth feature below; the rest of the grid hidden
    assert len(figure.axes) == 16
    raw = [ax.get_xlabel() for ax in shown if not ax.get_xlabel().startswith("network input")]
    assert raw == [feature_label(f) for f in features[:4]] + ["MET"]
    net = [ax.get_xlabel() for ax in shown if ax.get_xlabel().startswith("network input")]
    assert net == [f"network input: {f}" for f in features]
    assert figure.get_suptitle() == (
        "dy_mumu: training features before (top) and after (bottom) preprocessing"
    )
    assert path.is_file()
    assert plt.get_fignums() == open_figures  # built without pyplot: nothing left to close


def test_relative_angles_are_shown_relative(tmp_path: Path, panels) -> None:
    table = _events()
    transform = Transform.from_rules(
        list(table.columns), RULES, phi={"reference": "mu1_phi", "mode": "uniform"}
    ).fit(table)
    shown_table, inputs, labels = preprocessing_view(table, transform)
    assert transform.features == ["mu1_pt", "mu2_pt", "mu2_phi", "met"]
    assert inputs.shape == (len(table), 4)
    assert list(labels) == ["mu2_phi"]
    assert labels["mu2_phi"].endswith("to mu1_phi, centred")
    assert not np.allclose(shown_table["mu2_phi"], table["mu2_phi"])
    figure = plot_preprocessing(
        shown_table,
        inputs,
        features=transform.features,
        path=tmp_path / "p.png",
        title="d",
        labels=labels,
    )
    assert labels["mu2_phi"] in [ax.get_xlabel() for ax in panels(figure)]
    plain = Transform.from_rules(list(table.columns), RULES).fit(table)
    assert preprocessing_view(table, plain)[2] == {}


def test_a_cos_theta_learned_within_the_selection_is_labelled_as_log_odds(tmp_path: Path) -> None:
    from representation_events import MUON, dimuon_events

    from hepgen.preprocessing import Representation

    table = dimuon_events(np.random.default_rng(0), 2000)
    muons = {"name": "mu", "max": 2, "min": 2, "mass": MUON, "min_pt": 20.0, "max_abs_eta": 2.4}
    rep = Representation.from_config(
        {"objects": [muons], "systems": [{"name": "ll", "objects": ["mu1", "mu2"]}]}
    )
    transform = Transform.from_rules(list(table.columns), RULES, representation=rep).fit(table)
    shown, _, labels = preprocessing_view(table, transform)
    assert labels == {"ll_costheta": r"log-odds of $\cos\theta^*_{\ell\ell}$ in the selection"}
    assert np.abs(shown["ll_costheta"]).max() > 3.0  # odds, not cos θ* in [-1, 1]
