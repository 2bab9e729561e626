"""Tests of the leaderboard tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hepgen.plotting.leaderboard import COLUMNS, load_records, write_leaderboard
from hepgen.runtime import HepgenError


def _metrics(auc: float, w1: float) -> dict:
    return {
        "n_truth": 4000,
        "n_generated": 20000,
        "n_compared": 2000,
        "w1": {"features": {}, "mean": {"value": w1, "floor": 0.02}},
        "auc": {"value": auc, "floor": 0.505},
    }


RECORDS = [
    {"dataset": "ttbar", "model": "vae", "metrics": _metrics(0.71, 0.09)},
    {"dataset": "dy_mumu", "model": "vae", "metrics": _metrics(0.64, 0.05)},
    {"dataset": "dy_mumu", "model": "bvae", "metrics": _metrics(0.55, 0.03)},
]


def test_csv_and_markdown(tmp_path: Path) -> None:
    csv, md = tmp_path / "summary" / "leaderboard.csv", tmp_path / "summary" / "leaderboard.md"
    write_leaderboard(RECORDS, csv, md)
    table = pd.read_csv(csv)
    assert list(table.columns) == COLUMNS
    assert len(table) == len(RECORDS)
    # Sorted by dataset, then AUC: the better dy_mumu model first.
    assert list(zip(table["dataset"], table["model"], strict=True)) == [
        ("dy_mumu", "bvae"),
        ("dy_mumu", "vae"),
        ("ttbar", "vae"),
    ]
    assert table.loc[0, "auc"] == pytest.approx(0.55)
    assert table.loc[0, "w1_mean_floor"] == pytest.approx(0.02)
    text = md.read_text()
    assert "| dy_mumu | bvae | 0.5500 | 0.5050 |" in text
    for record in RECORDS:
        assert f"| {record['model']} |" in text


def test_records_from_files(tmp_path: Path) -> None:
    paths = []
    for i, record in enumerate(RECORDS):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(record["metrics"]))
    records = load_records(
        paths, datasets=["ttbar", "dy_mumu", "dy_mumu"], models=["vae", "vae", "bvae"]
    )
    assert records == RECORDS
    with pytest.raises(HepgenError, match="3 files, 2 datasets and 3 models"):
        load_records(paths, datasets=["a", "b"], models=["x", "y", "z"])


def test_incomplete_record_is_named(tmp_path: Path) -> None:
    broken = [{"dataset": "dy_mumu", "model": "flow", "metrics": {"auc": {"value": 0.6}}}]
    with pytest.raises(HepgenError, match="dy_mumu/flow"):
        write_leaderboard(broken, tmp_path / "l.csv", tmp_path / "l.md")
    assert list(tmp_path.iterdir()) == []
