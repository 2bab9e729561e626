"""Training curves: every loss term of the training history, training beside validation."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.plotting.style import COLORS, DPI, style

__all__ = ["NOT_CURVES", "curve_pairs", "plot_training"]

PLOT = "training curves"
#: History columns that are bookkeeping, not loss terms.
NOT_CURVES = frozenset({"epoch", "seconds", "lr"})


def curve_pairs(history: pd.DataFrame) -> dict[str, tuple[str | None, str | None]]:
    """Group the numeric history columns into (training, validation) pairs by name.

    Arguments:
        history: one row per epoch, e.g. columns ``epoch, loss, mse, kl, val_loss, val_mse,
            val_kl, lr, seconds``.

    Returns:
        ``{term: (training column or None, validation column or None)}``, ``loss`` first,
        e.g. ``{"loss": ("loss", "val_loss"), "kl": ("kl", "val_kl")}``.
    """
    numeric = [
        c
        for c in history.columns
        if c not in NOT_CURVES and pd.api.types.is_numeric_dtype(history[c])
    ]
    terms: dict[str, list[str | None]] = {}
    for column in numeric:
        is_val = column.startswith("val_")
        term = column[4:] if is_val else column
        terms.setdefault(term, [None, None])[1 if is_val else 0] = column
    order = sorted(terms, key=lambda t: (t != "loss", numeric.index(terms[t][0] or terms[t][1])))
    return {t: (terms[t][0], terms[t][1]) for t in order}


def plot_training(history: pd.DataFrame, *, path: str | os.PathLike, title: str) -> Figure:
    """Save a PNG with one panel per loss term (training and validation) and the learning rate.

    The epoch of the lowest validation loss (the restored weights) is marked in every panel.

    Arguments:
        history: the training history (``history.csv``), one row per epoch.
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: bvae"``.

    Returns:
        The saved figure: one panel per term of :func:`curve_pairs` (y label: the term) and
        one for the learning rate (``"learning rate"``), x label ``"epoch"``, unused grid
        cells switched off; the first panel holds the legend (training, validation, best
        epoch).
    """
    if history.empty or "epoch" not in history.columns:
        msg = f"{PLOT}: the history needs an 'epoch' column and one row per epoch, found columns {list(history.columns)} and {len(history)} rows"
        raise HepgenError(msg)
    pairs = curve_pairs(history)
    if not pairs:
        msg = f"{PLOT}: the history has no loss columns, only {list(history.columns)}"
        raise HepgenError(msg)
    epoch = history["epoch"].to_numpy()
    best = None
    if "val_loss" in history and history["val_loss"].notna().any():
        best = int(epoch[int(np.nanargmin(history["val_loss"].to_numpy(dtype=float)))])
    panels = len(pairs) + ("lr" in history.columns)
    columns = panels if panels <= 4 else 3
    rows = math.ceil(panels / columns)
    with style():
        figure = Figure(figsize=(4.2 * columns, 3.2 * rows + 0.5), layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
        for ax, (term, (train, val)) in zip(axes, pairs.items(), strict=False):
            for column, color, label in (
                (train, COLORS["truth"], "training"),
                (val, COLORS["generated"], "validation"),
            ):
                if column is not None:
                    ax.plot(epoch, history[column].to_numpy(dtype=float), color=color, label=label)
            _finish(ax, term, best)
        if "lr" in history.columns:
            ax = axes[len(pairs)]
            ax.plot(epoch, history["lr"].to_numpy(dtype=float), color="black")
            _finish(ax, "learning rate", best)
        for ax in axes[panels:]:
            ax.axis("off")
        axes[0].legend()
        seconds = history["seconds"].sum() if "seconds" in history.columns else float("nan")
        note = f", {seconds:.0f} s" if np.isfinite(seconds) else ""
        best_note = f", best validation loss at epoch {best}" if best is not None else ""
        figure.suptitle(f"{title}: training, {len(history)} epochs{note}{best_note}", weight="bold")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _finish(ax: Axes, term: str, best: int | None) -> None:
    values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    values = values[np.isfinite(values)]
    if len(values) and values.min() > 0 and values.max() > 20 * values.min():
        ax.set_yscale("log")
    if best is not None:
        ax.axvline(best, color="grey", linestyle=":", linewidth=1.0, label="best epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel(term)
