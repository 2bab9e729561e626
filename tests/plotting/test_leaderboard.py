"""Tests of the leaderboard table (CSV) and its records."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from hepgen.plotting.headline import HEADLINE
from hepgen.plotting.leaderboard import COLUMNS, load_records, write_leaderboard
from hepgen.runtime import HepgenError


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
