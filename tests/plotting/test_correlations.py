"""Tests of the correlation-matrix figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.plotting.correlations import plot_correlations, short_label
from hepgen.runtime import HepgenError


def test_png_shows_three_matrices(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0, 0, 0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]], size=800)
    truth = pd.DataFrame(x, columns=["mu1_pt", "mu2_pt", "met"])
    generated = pd.DataFrame(rng.normal(size=(800, 3)), columns=["mu1_pt", "mu2_pt", "met"])
    path = tmp_path / "correlations.png"
    plot_correlations(
        truth, generated, features=list(truth.columns), path=path, title="t", note="norm"
    )
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB")).astype(float)
    assert width > 2.5 * height  # three square panels side by side
    assert pixels.std() > 10
    assert short_label("mu1_pt") == r"$p_T$ ($\mu_{1}$)"


def test_inf_is_refused(tmp_path: Path) -> None:
    table = pd.DataFrame({"met": np.arange(10.0), "mu1_pt": np.arange(10.0)})
    bad = table.copy()
    bad.loc[2, "met"] = np.inf
    with pytest.raises(HepgenError, match=r"correlation plot.*'met': 1 of 10"):
        plot_correlations(
            table, bad, features=["met", "mu1_pt"], path=tmp_path / "c.png", title="t"
        )
    assert list(tmp_path.iterdir()) == []
