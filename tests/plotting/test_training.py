"""Tests of the training-curve figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hepgen.errors import HepgenError
from hepgen.plotting.training import curve_pairs, plot_training


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


def test_one_panel_per_loss_term_and_the_learning_rate(tmp_path: Path, panels, legends) -> None:
    history = _history(30)
    best = int(history["epoch"][history["val_loss"].idxmin()])
    path = tmp_path / "training.png"
    figure = plot_training(history, path=path, title="dy_mumu: vae")
    shown = panels(figure)
    assert [ax.get_ylabel() for ax in shown] == ["loss", "kl", "disc_acc", "learning rate"]
    assert {ax.get_xlabel() for ax in shown} == {"epoch"}
    assert len(figure.axes) == 4  # one row, no empty cell
    # the first panel explains the lines; a term without validation has no validation line
    assert legends(figure) == [["training", "validation", "best epoch"]]
    assert [line.get_label() for line in shown[2].lines] == ["training", "best epoch"]
    loss = shown[0].lines[0]
    np.testing.assert_allclose(loss.get_ydata(), history["loss"])
    np.testing.assert_array_equal(loss.get_xdata(), history["epoch"])
    for ax in shown:  # the restored epoch is marked everywhere
        assert list(ax.lines[-1].get_xdata()) == [best, best]
    # the loss falls 30-fold: log axis; the KL term grows 5-fold: linear
    assert [ax.get_yscale() for ax in shown[:2]] == ["log", "linear"]
    title = figure.get_suptitle()
    assert title.startswith("dy_mumu: vae: training, 30 epochs, 3 s")
    assert title.endswith(f"best validation loss at epoch {best}")
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_more_terms_wrap_into_rows_of_three(tmp_path: Path, panels) -> None:
    history = _history(10).drop(columns="lr")
    history["mse"] = history["val_mse"] = np.geomspace(100.0, 0.1, 10)
    history["adv"] = 1.0
    figure = plot_training(history, path=tmp_path / "t.png", title="t")
    shown = panels(figure)
    assert [ax.get_ylabel() for ax in shown] == ["loss", "kl", "disc_acc", "mse", "adv"]
    assert len(figure.axes) == 6 and not figure.axes[5].axison
    assert shown[3].get_yscale() == "log"  # spans three decades


def test_history_without_losses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HepgenError, match="no loss columns"):
        plot_training(
            pd.DataFrame({"epoch": [1, 2], "lr": [1e-3, 1e-3]}), path=tmp_path / "t.png", title="t"
        )
    with pytest.raises(HepgenError, match="'epoch' column"):
        plot_training(pd.DataFrame({"loss": [1.0]}), path=tmp_path / "t.png", title="t")
