"""Tests of the feature-histogram grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox
from PIL import Image

from hepgen.errors import HepgenError
from hepgen.plotting.histograms import (
    MIN_WIDTH,
    PANEL_SIZE,
    RATIO_RANGE,
    figure_size,
    grid_shape,
    metric_notes,
    plot_feature_grid,
    plot_histograms,
)
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import DPI

LEGEND = ["truth (test split)", "vae", "truth stat. uncertainty"]


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


def _split(panels: list) -> tuple[list, list]:
    """Histogram panels and ratio panels (every other panel, histogram first)."""
    return panels[0::2], panels[1::2]


def test_one_histogram_and_ratio_panel_per_feature(tmp_path: Path, panels, legends) -> None:
    features = ["mu1_pt", "mu1_eta", "met", "met_phi", "n_mu"]
    truth, generated = _events(0, 800), _events(1, 1200)
    path = tmp_path / "plots" / "vae.png"
    figure = plot_feature_grid(
        truth,
        generated,
        features=features,
        path=path,
        title="dy_mumu: vae",
        weights=(truth["weight"].to_numpy(), None),
        label="vae",
    )
    shown = panels(figure)
    assert len(shown) == 2 * len(features)
    mains, ratios = _split(shown)
    # each feature is named (with symbol and unit) under its ratio panel, in the given order
    assert [ax.get_xlabel() for ax in ratios] == [feature_label(f) for f in features]
    assert [ax.get_xlabel() for ax in mains] == [""] * len(features)
    # y labels on the first grid column only (features 0 and 4 of a 4-column grid)
    assert [ax.get_ylabel() for ax in mains] == [
        "fraction of events",
        "",
        "",
        "",
        "fraction of events",
    ]
    assert [ax.get_ylabel() for ax in ratios][::4] == ["gen./truth", "gen./truth"]
    for main, ratio in zip(mains, ratios, strict=True):
        assert main.get_legend_handles_labels()[1] == ["truth (test split)", "vae"]
        assert ratio.get_legend_handles_labels()[1] == ["truth stat. uncertainty"]
        assert ratio.get_ylim() == RATIO_RANGE
    # one figure legend titled with the model, nothing in the panels
    assert legends(figure) == [LEGEND]
    assert figure.legends[0].get_title().get_text() == "dy_mumu: vae"
    assert "truth: 800 events, vae: 1,200 events" in " ".join(figure.get_supxlabel().split())
    # the PNG beside it, at the size the grid asks for
    rows, columns = grid_shape(len(features))
    assert (rows, columns) == (2, 4)
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (
            round(PANEL_SIZE[0] * columns * DPI),
            round((PANEL_SIZE[1] * rows + 1.0) * DPI),
        )
    assert figure_size(1)[0] == MIN_WIDTH  # room for the legend beside a single panel
    assert [p.name for p in path.parent.iterdir()] == ["vae.png"]


@pytest.mark.parametrize("n_features", [1, 5, 12])
def test_panels_labels_legend_and_note_do_not_overlap(tmp_path: Path, panels, n_features) -> None:
    """The fixed layout leaves room for every tick label, axis label, the legend and the note."""
    rng = np.random.default_rng(4)
    names = [f"mu{i}_pt" for i in range(n_features)]
    tables = [
        pd.DataFrame({n: rng.exponential(1e-4, 600) + 1e-3 * i for i, n in enumerate(names)})
        for _ in range(2)
    ]  # tick labels as long as they get: 0.0001-scale values, offset text
    figure = plot_feature_grid(
        *tables, features=names, path=tmp_path / "g.png", title="dy_mumu: vae", label="vae"
    )
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    shown = panels(figure)
    boxes = [
        Bbox.union([ax.get_tightbbox(renderer) for ax in shown[i : i + 2]])
        for i in range(0, len(shown), 2)
    ]  # each histogram with its ratio panel, tick labels and axis labels
    boxes += [figure.legends[0].get_window_extent(renderer)]
    (note,) = [text for text in figure.texts if text.get_text() == figure.get_supxlabel()]
    boxes += [note.get_window_extent(renderer)]
    inside = figure.bbox
    for i, box in enumerate(boxes):
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, i
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, i
        for other in boxes[i + 1 :]:
            assert not box.overlaps(other), (i, box, other)


def test_the_histograms_are_the_normalised_samples(tmp_path: Path, panels) -> None:
    truth, generated = _events(0, 500), _events(1, 700)
    generated["n_mu"] = 2.0  # every generated event in one bin
    figure = plot_feature_grid(
        truth, generated, features=["n_mu"], path=tmp_path / "n.png", title="t"
    )
    main, ratio = panels(figure)
    labelled = [p for p in main.patches if p.get_label() and not p.get_label().startswith("_")]
    fractions = {p.get_label(): p.get_data().values for p in labelled}
    assert set(fractions) == {"truth (test split)", "generated"}
    assert fractions["truth (test split)"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(fractions["generated"], [1.0, 0.0, 0.0])
    assert main.get_ylim()[1] > 1.0  # the tallest bin fits
    assert ratio.get_xlabel() == "number of $\\mu$"


def test_fewer_features_fewer_panels(tmp_path: Path, panels) -> None:
    truth, generated = _events(0, 300), _events(1, 300)
    for features in (["met"], ["met", "mu1_pt", "mu1_eta"]):
        figure = plot_feature_grid(
            truth, generated, features=features, path=tmp_path / "g.png", title="t"
        )
        assert len(panels(figure)) == 2 * len(features)


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


def test_undefined_values_and_panel_notes(tmp_path: Path, panels) -> None:
    truth, generated = _events(0, 600), _events(1, 900)
    generated.loc[::4, "met"] = np.nan  # e.g. an observable lacking its objects
    path = tmp_path / "observables.png"
    with pytest.raises(HepgenError, match=r"generated events hold NaN or infinite.*'met': 225"):
        plot_feature_grid(truth, generated, features=["met"], path=path, title="t")
    note = "W1/σ 0.030 ± 0.004\nfloor 0.031 ± 0.004"
    figure = plot_feature_grid(
        truth,
        generated,
        features=["mu1_pt", "met"],
        path=path,
        title="dy_mumu: vae",
        notes={"met": note},
        allow_missing=True,
    )
    mains, _ = _split(panels(figure))
    assert [t.get_text() for t in mains[0].texts] == []
    assert [t.get_text() for t in mains[1].texts] == [note]
    assert "undefined are left out" in " ".join(figure.get_supxlabel().split())
    generated["met"] = np.nan
    with pytest.raises(HepgenError, match="no event has 'met' defined in the generated sample"):
        plot_feature_grid(
            truth, generated, features=["met"], path=path, title="t", allow_missing=True
        )


def test_model_histograms_note_each_features_w1(
    tmp_path: Path, panels, legends, make_entry
) -> None:
    metrics = {"w1": {"features": {"met": make_entry(0.1234, 0.05)}, "mean": {}}}
    figure = plot_histograms(
        _events(0, 400),
        _events(1, 400),
        features=["mu1_pt", "met"],
        metrics=metrics,
        path=tmp_path / "histograms.png",
        dataset="dy_mumu",
        model="vae",
    )
    mains, ratios = _split(panels(figure))
    assert [ax.get_xlabel() for ax in ratios] == [feature_label("mu1_pt"), feature_label("met")]
    assert [t.get_text() for t in mains[1].texts] == ["W1/σ 0.123 ± 0.010\nfloor 0.050 ± 0.005"]
    assert legends(figure) == [LEGEND]
    assert figure.legends[0].get_title().get_text() == "dy_mumu: vae"
    assert (tmp_path / "histograms.png").is_file()


def test_metric_notes_give_value_and_floor() -> None:
    family = {
        "features": {"met": {"value": 0.1234, "err": 0.01, "floor": 0.05, "floor_err": 0.002}}
    }
    assert metric_notes(family, "features") == {"met": "W1/σ 0.123 ± 0.010\nfloor 0.050 ± 0.002"}
    assert metric_notes(family, "observables") == {}


def test_absent_objects_are_no_spike_at_zero(tmp_path, panels) -> None:
    from hepgen.plotting.histograms import plot_histograms

    rng = np.random.default_rng(3)
    tables = []
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        n = 800
        there = rng.random(n) < 0.3
        tables.append(
            pd.DataFrame(
                {
                    "jet1_pt": np.where(there, rng.exponential(30.0, n) + 30.0, 0.0),
                    "jet1_eta": np.where(there, rng.normal(0, 1.5, n), 0.0),
                    "met": rng.exponential(10.0, n),
                }
            )
        )
    figure = plot_histograms(
        *tables,
        features=["jet1_pt", "jet1_eta", "met"],
        metrics={},
        path=tmp_path / "h.png",
        dataset="d",
        model="m",
    )
    main = panels(figure)[0]
    # the jet pT panel starts near the smallest present pT (30 GeV), not at the padding's 0
    assert main.get_xlim()[0] > 20.0
    assert "jet1_pt" not in figure.legends[0].get_title().get_text()
