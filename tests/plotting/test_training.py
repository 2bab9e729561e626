"""Tests of the training-curve figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.plotting.training import curve_pairs, plot_training
from hepgen.runtime import HepgenError


def _history(epochs: int) -> pd.DataFrame:
    epoch = np.arange(1, epochs + 1)
    return pd.DataFrame(
        {
            "epoch": epoch,
            "loss": 1.0 / epoch,
            "kl": np.log1p(epoch),
            "val_loss": 1.2 / epoch + 0.01 * (epoch > 15),
            "val_kl": np.log1p(epoch),
            "disc_acc": np.full(epochs, 0.5),
            "lr": np.full(epochs, 1e-3),
            "seconds": np.full(epochs, 0.1),
        }
    )


def test_columns_pair_training_with_validation() -> None:
    assert curve_pairs(_history(3)) == {
        "loss": ("loss", "val_loss"),
        "kl": ("kl", "val_kl"),
        "disc_acc": ("disc_acc", None),
    }


def test_png_is_written(tmp_path: Path) -> None:
    path = tmp_path / "training.png"
    plot_training(_history(30), path=path, title="dy_mumu: vae")
    with Image.open(path) as image:
        assert np.asarray(image.convert("L")).std() > 10


def test_history_without_losses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HepgenError, match="no loss columns"):
        plot_training(
            pd.DataFrame({"epoch": [1, 2], "lr": [1e-3, 1e-3]}), path=tmp_path / "t.png", title="t"
        )
    with pytest.raises(HepgenError, match="'epoch' column"):
        plot_training(pd.DataFrame({"loss": [1.0]}), path=tmp_path / "t.png", title="t")
