"""Tests of the leaderboard: its records, the CSV table and the figure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.errors import HepgenError
from hepgen.plotting.headline import HEADLINE
from hepgen.plotting.leaderboard import (
    COLUMNS,
    LEGEND,
    PANEL_COLUMNS,
    leaderboard_table,
    load_records,
    plot_leaderboard,
    write_leaderboard,
)

#: Panel titles of the metrics in the shared records, in table order.
TITLES = ["AUC", r"$W_1/\sigma$", "FPD", "$C_T$", r"$d_\mathrm{NN}$ ratio"]
ROWS = ["dy_mumu: bvae", "dy_mumu: vae", "ttbar: vae"]


def test_csv_has_every_metric_with_uncertainty_and_floor(tmp_path: Path, records) -> None:
    paths = {s: tmp_path / "summary" / f"leaderboard.{s}" for s in ("csv", "md", "tex")}
    write_leaderboard(records, paths["csv"], paths["md"], paths["tex"])
    table = pd.read_csv(paths["csv"])
    assert list(table.columns) == COLUMNS
    for headline in HEADLINE:
        for suffix in ("", "_err", "_floor", "_floor_err"):
            assert f"{headline.key}{suffix}" in table.columns
    # Sorted by dataset, then AUC: the better dy_mumu model first.
    assert list(zip(table["dataset"], table["model"], strict=True)) == [
        ("dy_mumu", "bvae"),
        ("dy_mumu", "vae"),
        ("ttbar", "vae"),
    ]
    assert table.loc[0, "auc"] == pytest.approx(0.55)
    assert table.loc[0, "w1_mean_floor"] == pytest.approx(0.02)
    assert table.loc[0, "copy_z"] == pytest.approx(-15.0)
    assert table.loc[0, "rate_hz"] == pytest.approx(8.0e4)
    assert table.loc[0, "eval_seconds"] == pytest.approx(12.5)
    assert math.isnan(table.loc[0, "ks_mean"])  # not in these records: empty, never invented
    assert math.isnan(table.loc[0, "valid_fraction"])
    assert all(path.is_file() for path in paths.values())


def test_csv_and_table_give_unphysical_and_outside_selection_fractions(
    tmp_path: Path, records
) -> None:
    records[2]["metrics"]["sampling"] = {
        "rate_hz": 8.0e4,
        "valid_fraction": 0.95,
        "unphysical_fraction": 0.0012,
        "outside_selection_fraction": 0.048,
    }
    paths = {s: tmp_path / f"leaderboard.{s}" for s in ("csv", "md", "tex")}
    write_leaderboard(records, paths["csv"], paths["md"], paths["tex"])
    table = pd.read_csv(paths["csv"]).set_index("model")
    assert table.loc["bvae", "unphysical_fraction"] == pytest.approx(0.0012)
    assert table.loc["bvae", "outside_selection_fraction"] == pytest.approx(0.048)
    lines = paths["md"].read_text().splitlines()
    row = next(line for line in lines if "| bvae |" in line and "0.9500" in line)
    assert "| 0.9500 | 0.0012 |" in row


def test_records_from_files(tmp_path: Path, records) -> None:
    paths = []
    for i, record in enumerate(records):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(record["metrics"]))
    loaded = load_records(
        paths, datasets=["ttbar", "dy_mumu", "dy_mumu"], models=["vae", "vae", "bvae"]
    )
    assert loaded == records
    with pytest.raises(HepgenError, match="3 files, 2 datasets and 3 models"):
        load_records(paths, datasets=["a", "b"], models=["x", "y", "z"])


def test_incomplete_record_is_named(tmp_path: Path) -> None:
    broken = [{"dataset": "dy_mumu", "model": "flow", "metrics": {"auc": {"value": 0.6}}}]
    with pytest.raises(HepgenError, match="dy_mumu/flow"):
        write_leaderboard(broken, tmp_path / "l.csv", tmp_path / "l.md")
    assert list(tmp_path.iterdir()) == []


def _row_labels(ax) -> list[str]:
    """Tick labels of a panel from top to bottom."""
    ticks = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
    return [t.get_text() for t in ticks]


def test_figure_has_a_panel_per_available_metric(tmp_path: Path, records, panels, legends) -> None:
    path = tmp_path / "leaderboard.png"
    table = leaderboard_table(records)
    figure = plot_leaderboard(table, path=path)
    shown = panels(figure)
    assert [ax.get_title() for ax in shown] == TITLES
    assert legends(figure) == [list(LEGEND)]
    assert figure.legends[0].get_title().get_text() == "hepgen leaderboard"
    # five metrics: a row of four and one more; the three empty cells are switched off
    assert len(figure.axes) == 2 * PANEL_COLUMNS
    assert sum(not ax.axison for ax in figure.axes) == 3
    # models named on the first panel of each row, best first within a dataset
    assert _row_labels(shown[0]) == _row_labels(shown[PANEL_COLUMNS]) == ROWS
    assert set(_row_labels(shown[1])) == {""}
    # each model's value with its error bar, each floor as a band, the ideal as a line
    auc = shown[0]
    (bars,) = auc.containers
    points = bars.lines[0]
    assert list(points.get_xdata()) == pytest.approx(table["auc"].tolist())
    assert list(points.get_ydata()) == [2, 1, 0]
    assert len(auc.collections) == len(table) + 1  # three floor bands, one error-bar set
    assert [list(line.get_xdata()) for line in auc.lines if line.get_linestyle() == "--"] == [
        [0.5, 0.5]
    ]
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] > image.size[1]


def test_a_metric_missing_from_every_record_has_no_panel(
    tmp_path: Path, records, panels, make_entry
) -> None:
    without_fpd = [
        {**r, "metrics": {k: v for k, v in r["metrics"].items() if k != "fpd"}} for r in records
    ]
    figure = plot_leaderboard(leaderboard_table(without_fpd), path=tmp_path / "l.png")
    assert [ax.get_title() for ax in panels(figure)] == [t for t in TITLES if t != "FPD"]
    # one record with one more metric: one more panel, in table order
    more = [*records[:2], {**records[2], "metrics": {**records[2]["metrics"]}}]
    more[2]["metrics"]["ks"] = {"mean": make_entry(0.04, 0.01)}
    figure = plot_leaderboard(leaderboard_table(more), path=tmp_path / "l.png")
    titles = [ax.get_title() for ax in panels(figure)]
    assert titles == [*TITLES[:2], r"$D_\mathrm{KS}$", *TITLES[2:]]
    # a model without the metric has no point in its row
    ks = panels(figure)[2]
    assert np.isfinite(ks.containers[0].lines[0].get_xdata()).sum() == 1


def test_one_model_one_row(tmp_path: Path, records, panels) -> None:
    figure = plot_leaderboard(leaderboard_table(records[:1]), path=tmp_path / "l.png")
    shown = panels(figure)
    assert len(shown) == len(TITLES)
    assert _row_labels(shown[0]) == ["ttbar: vae"]


def test_empty_leaderboard_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HepgenError, match="no rows"):
        plot_leaderboard(pd.DataFrame(columns=["dataset", "model", "auc"]), path=tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
