"""Tests of the correlation-matrix figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.errors import HepgenError
from hepgen.plotting.correlations import MAX_ANNOTATED, plot_correlations, short_label


def test_figure_shows_truth_generated_and_difference(tmp_path: Path, panels) -> None:
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0, 0, 0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]], size=800)
    features = ["mu1_pt", "mu2_pt", "met"]
    truth = pd.DataFrame(x, columns=features)
    generated = pd.DataFrame(rng.normal(size=(800, 3)), columns=features)
    path = tmp_path / "correlations.png"
    figure = plot_correlations(
        truth, generated, features=features, path=path, title="t", label="vae", note="norm"
    )
    shown = panels(figure)
    assert [ax.get_title() for ax in shown] == ["truth (test split)", "vae", "vae − truth"]
    ticks = [r"$p_T$ ($\mu_{1}$)", r"$p_T$ ($\mu_{2}$)", "$E_T^{miss}$"]
    for ax in shown:
        assert [t.get_text() for t in ax.get_xticklabels()] == ticks
        assert [t.get_text() for t in ax.get_yticklabels()] == ticks
        assert len(ax.texts) == 6  # the off-diagonal values written in the cells
    assert [ax.get_xlabel() for ax in shown] == ["", "", "norm"]
    colorbars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert [ax.get_ylabel() for ax in colorbars] == ["Spearman ρ", "Spearman ρ", "Δρ"]
    truth_rho, gen_rho, difference = (ax.images[0].get_array() for ax in shown)
    assert truth_rho[0, 1] == pytest.approx(0.8, abs=0.05)
    assert abs(gen_rho[0, 1]) < 0.1
    np.testing.assert_allclose(difference, gen_rho - truth_rho)
    assert figure.get_suptitle() == "t: Spearman rank correlations"
    with Image.open(path) as image:
        width, height = image.size
    assert width > 2.5 * height  # three square panels side by side
    assert short_label("mu1_pt") == r"$p_T$ ($\mu_{1}$)"


def test_large_matrices_have_no_cell_values(tmp_path: Path, panels) -> None:
    features = [f"x{i}" for i in range(MAX_ANNOTATED + 1)]
    table = pd.DataFrame(
        np.random.default_rng(1).normal(size=(50, len(features))), columns=features
    )
    figure = plot_correlations(table, table, features=features, path=tmp_path / "c.png", title="t")
    shown = panels(figure)
    assert len(shown) == 3
    assert all(len(ax.texts) == 0 for ax in shown)
    assert [ax.get_title() for ax in shown][1:] == ["generated", "generated − truth"]


def test_inf_is_refused(tmp_path: Path) -> None:
    table = pd.DataFrame({"met": np.arange(10.0), "mu1_pt": np.arange(10.0)})
    bad = table.copy()
    bad.loc[2, "met"] = np.inf
    with pytest.raises(HepgenError, match=r"correlation plot.*'met': 1 of 10"):
        plot_correlations(
            table, bad, features=["met", "mu1_pt"], path=tmp_path / "c.png", title="t"
        )
    assert list(tmp_path.iterdir()) == []
