"""Tests of the leaderboard figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.plotting.leaderboard import leaderboard_table
from hepgen.plotting.summary import plot_leaderboard
from hepgen.runtime import HepgenError


def test_png_is_written_with_a_panel_per_available_metric(tmp_path: Path, records) -> None:
    path = tmp_path / "leaderboard.png"
    plot_leaderboard(leaderboard_table(records), path=path)
    with Image.open(path) as image:
        width, height = image.size
        assert np.asarray(image.convert("L")).std() > 10
    assert width > height  # five metrics in these records: one row of four and one more


def test_empty_leaderboard_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HepgenError, match="no rows"):
        plot_leaderboard(pd.DataFrame(columns=["dataset", "model", "auc"]), path=tmp_path / "x.png")
