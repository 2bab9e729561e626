"""Tests of the feature-histogram grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.plotting.histograms import (
    MIN_WIDTH,
    PANEL_SIZE,
    binned,
    figure_size,
    grid_shape,
    histogram_edges,
    plot_feature_grid,
)
from hepgen.plotting.style import DPI
from hepgen.runtime import HepgenError


def _events(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "mu1_pt": rng.exponential(15.0, n) + 25.0,
            "mu1_eta": rng.normal(0.0, 1.3, n),
            "met_phi": rng.uniform(-np.pi, np.pi, n),
            "met": rng.exponential(10.0, n),
            "n_mu": rng.integers(2, 5, n).astype(float),
            "weight": rng.uniform(0.5, 1.5, n),
        }
    )


def test_png_is_written_with_the_expected_size(tmp_path: Path) -> None:
    features = ["mu1_pt", "mu1_eta", "met", "met_phi", "n_mu"]
    truth, generated = _events(0, 800), _events(1, 1200)
    path = tmp_path / "plots" / "vae.png"
    plot_feature_grid(
        truth,
        generated,
        features=features,
        path=path,
        title="dy_mumu: vae",
        weights=(truth["weight"].to_numpy(), None),
        label="vae",
    )
    rows, columns = grid_shape(len(features))
    assert (rows, columns) == (2, 4)
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        pixels = np.asarray(image.convert("L"))
    assert width == round(PANEL_SIZE[0] * columns * DPI)
    assert height == round((PANEL_SIZE[1] * rows + 1.0) * DPI)
    assert figure_size(1)[0] == MIN_WIDTH  # room for the legend beside a single panel
    assert pixels.std() > 10  # not a blank canvas
    assert [p.name for p in path.parent.iterdir()] == ["vae.png"]


def test_a_failing_plot_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "vae.png"
    with pytest.raises(HepgenError, match=r"generated table lacks.*\['met'\]"):
        plot_feature_grid(
            _events(0, 200),
            _events(1, 200).drop(columns="met"),
            features=["mu1_pt", "met"],
            path=path,
            title="t",
        )
    generated = _events(1, 200)
    generated.loc[0, "mu1_eta"] = np.inf
    with pytest.raises(HepgenError, match="'mu1_eta': 1 of 200"):
        plot_feature_grid(_events(0, 200), generated, features=["mu1_eta"], path=path, title="t")
    assert list(tmp_path.iterdir()) == []


def test_edges_cover_the_central_99_percent() -> None:
    values = np.random.default_rng(2).normal(size=100_000)
    edges = histogram_edges(values, bins=40)
    assert len(edges) == 41
    assert edges[0] == pytest.approx(-2.576, abs=0.03)  # 0.5 % quantile of N(0, 1)
    assert edges[-1] == pytest.approx(2.576, abs=0.03)
    # Multiplicities get one bin per integer, centred on it.
    np.testing.assert_array_equal(
        histogram_edges(np.array([2.0, 3.0, 3.0, 5.0])), np.arange(1.5, 6.0)
    )


def test_overflow_lands_in_the_edge_bins_and_fractions_sum_to_one() -> None:
    edges = np.array([0.0, 1.0, 2.0])
    fraction, error = binned(np.array([-5.0, 0.5, 1.5, 9.0]), edges)
    np.testing.assert_allclose(fraction, [0.5, 0.5])
    np.testing.assert_allclose(error, [np.sqrt(2) / 4, np.sqrt(2) / 4])
    weighted, _ = binned(np.array([0.5, 1.5]), edges, np.array([3.0, 1.0]))
    np.testing.assert_allclose(weighted, [0.75, 0.25])
