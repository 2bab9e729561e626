"""Leaderboard figure: every headline metric of every model beside its truth-vs-truth floor."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hepgen.plotting.headline import HEADLINE, Headline
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.runtime import HepgenError, atomic_path

__all__ = ["plot_leaderboard"]

COLUMNS = 4
#: A metric whose positive values span more than this factor is drawn on a log axis.
LOG_SPAN = 30.0


def plot_leaderboard(table: pd.DataFrame, *, path: str | os.PathLike) -> None:
    """Save a PNG with one panel per headline metric: models as rows, floors as grey bands.

    Arguments:
        table: the leaderboard (:func:`hepgen.plotting.leaderboard.leaderboard_table`).
        path: output PNG path, written atomically.
    """
    if table.empty:
        msg = "leaderboard figure: the leaderboard has no rows"
        raise HepgenError(msg)
    headlines = [h for h in HEADLINE if table[h.key].notna().any()]
    rows = math.ceil(len(headlines) / COLUMNS)
    labels = [f"{d}: {m}" for d, m in zip(table["dataset"], table["model"], strict=True)]
    height = max(1.9, 0.32 * len(table) + 1.1)
    with style():
        figure = Figure(figsize=(3.3 * COLUMNS + 1.2, height * rows + 0.9), layout="constrained")
        axes = figure.subplots(rows, COLUMNS, squeeze=False).ravel()
        for i, headline in enumerate(headlines):
            _panel(axes[i], table, headline, labels if i % COLUMNS == 0 else None)
        for ax in axes[len(headlines) :]:
            ax.axis("off")
        handles = [
            Line2D([], [], marker="o", color=COLORS["generated"], linestyle="none"),
            Patch(color=COLORS["band"], alpha=0.5),
            Line2D([], [], color="black", linestyle="--", linewidth=0.8),
        ]
        figure.legend(
            handles,
            ["model (± stat.)", "truth-vs-truth floor (± stat.)", "ideal (infinite statistics)"],
            loc="outside upper center",
            ncols=3,
            title="hepgen leaderboard",
            title_fontproperties={"size": "x-large", "weight": "bold"},
        )
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)


def _panel(ax: Axes, table: pd.DataFrame, headline: Headline, labels: list[str] | None) -> None:
    key = headline.key
    y = np.arange(len(table))[::-1]
    value = table[key].to_numpy(dtype=float)
    err = np.nan_to_num(table[f"{key}_err"].to_numpy(dtype=float))
    floor = table[f"{key}_floor"].to_numpy(dtype=float)
    floor_err = np.nan_to_num(table[f"{key}_floor_err"].to_numpy(dtype=float))
    for i in range(len(table)):
        if math.isfinite(floor[i]):
            ax.fill_betweenx(
                [y[i] - 0.4, y[i] + 0.4],
                floor[i] - floor_err[i],
                floor[i] + floor_err[i],
                color=COLORS["band"],
                alpha=0.5,
                linewidth=0,
            )
            ax.plot([floor[i]] * 2, [y[i] - 0.4, y[i] + 0.4], color="dimgrey", linewidth=0.8)
    ax.errorbar(value, y, xerr=err, fmt="o", color=COLORS["generated"], markersize=4, capsize=2)
    positive = np.concatenate([value - err, floor - floor_err])
    positive = positive[np.isfinite(positive)]
    log = len(positive) and positive.min() > 0 and positive.max() / positive.min() > LOG_SPAN
    if log:
        ax.set_xscale("log")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if not log or headline.ideal > 0:  # an ideal of 0 lies off a log axis
        ax.axvline(headline.ideal, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, labels if labels is not None else [""] * len(y))
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.tick_params(axis="y", which="both", left=False, right=False)
    ax.set_title(headline.tex.replace(r"\,\%", " %"))
