"""Tests of the metrics record: summary line, sampling figures, JSON writer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.record import sampling_record, summary, write_metrics


@pytest.mark.parametrize(
    ("info", "valid"),
    [
        ({"rate_hz": 9.5e4}, None),
        ({"valid_fraction": 0.97}, 0.97),
        ({"invalid_fraction": 0.25}, 0.75),
        ({"validity": 0.9}, 0.9),
        ({"validity": {"invalid_fraction": 0.1}}, 0.9),
        ({"repair": {"invalid": 50, "events": 1000}}, 0.95),
    ],
)
def test_sampling_record_reads_whichever_key_exists(info: dict, valid: float | None) -> None:
    record = sampling_record(info)
    assert record["valid_fraction"] == (None if valid is None else pytest.approx(valid))
    assert sampling_record(None) == {
        "rate_hz": None,
        "valid_fraction": None,
        "removed": None,
        "unphysical_fraction": None,
        "outside_selection_fraction": None,
    }
    outside = {"validity": {"events": 2000, "outside_selection": 50}}
    assert sampling_record(outside)["outside_selection_fraction"] == pytest.approx(0.025)
    assert sampling_record({"validity": {"invalid_fraction": 0.1, "removed": 3}})["removed"] == 3
    assert sampling_record({"rate_hz": 2000})["rate_hz"] == 2000.0


def test_summary_names_values_and_floors() -> None:
    e = {"value": 0.61, "err": 0.01, "floor": 0.5, "floor_err": 0.01}
    line = summary({"auc": e, "w1": {"mean": e}, "fpd": e, "n_compared": 1500})
    assert "AUC 0.610 ± 0.010 (floor 0.500)" in line and "FPD" in line and "1500" in line


def test_written_json_round_trips_and_nan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metrics" / "vae.json"
    write_metrics(path, {"auc": {"value": 0.7}})
    assert json.loads(path.read_text()) == {"auc": {"value": 0.7}}
    bad = tmp_path / "bad.json"
    with pytest.raises(HepgenError, match="NaN or infinity"):
        write_metrics(bad, {"auc": {"value": math.nan}})
    assert not bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics"]
