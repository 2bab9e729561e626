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
    figure_size,
    grid_shape,
    metric_notes,
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


def test_observables_with_undefined_values_and_panel_notes(tmp_path: Path) -> None:
    truth, generated = _events(0, 600), _events(1, 900)
    generated.loc[::4, "met"] = np.nan  # e.g. an observable lacking its objects
    path = tmp_path / "observables.png"
    with pytest.raises(HepgenError, match=r"generated events hold NaN or infinite.*'met': 225"):
        plot_feature_grid(truth, generated, features=["met"], path=path, title="t")
    plot_feature_grid(
        truth,
        generated,
        features=["mu1_pt", "met"],
        path=path,
        title="dy_mumu: vae",
        notes={"met": "W1/σ 0.030 ± 0.004\nfloor 0.031 ± 0.004"},
        allow_missing=True,
    )
    with Image.open(path) as image:
        assert np.asarray(image.convert("L")).std() > 10
    generated["met"] = np.nan
    with pytest.raises(HepgenError, match="no event has 'met' defined in the generated sample"):
        plot_feature_grid(
            truth, generated, features=["met"], path=path, title="t", allow_missing=True
        )


def test_metric_notes_give_value_and_floor() -> None:
    family = {
        "features": {"met": {"value": 0.1234, "err": 0.01, "floor": 0.05, "floor_err": 0.002}}
    }
    assert metric_notes(family, "features") == {"met": "W1/σ 0.123 ± 0.010\nfloor 0.050 ± 0.002"}
    assert metric_notes(family, "observables") == {}
