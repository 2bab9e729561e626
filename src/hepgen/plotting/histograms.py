"""Grid of normalised truth-vs-generated feature histograms with ratio panels."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.runtime import atomic_path

__all__ = [
    "PANEL_SIZE",
    "binned",
    "figure_size",
    "grid_shape",
    "histogram_edges",
    "plot_feature_grid",
]

PLOT = "feature histograms"
#: Width and height of one feature panel (histogram + ratio) [inches].
PANEL_SIZE = (3.4, 3.3)
#: Smallest figure width [inches], so the legend and the notes fit beside few panels.
MIN_WIDTH = 7.0
RATIO_RANGE = (0.5, 1.5)


def grid_shape(n_features: int, *, max_columns: int = 4) -> tuple[int, int]:
    """Rows and columns of the panel grid for ``n_features`` panels."""
    columns = min(max_columns, max(n_features, 1))
    return math.ceil(n_features / columns), columns


def figure_size(n_features: int) -> tuple[float, float]:
    """Width and height [inches] of the grid figure: panels plus room for legend and notes."""
    rows, columns = grid_shape(n_features)
    return max(PANEL_SIZE[0] * columns, MIN_WIDTH), PANEL_SIZE[1] * rows + 1.0


def histogram_edges(
    values: np.ndarray, weights: np.ndarray | None = None, *, bins: int = 40
) -> np.ndarray:
    """Bin edges over the 0.5-99.5 % (weighted) quantile range of ``values``.

    Integer-valued features with few distinct values (multiplicities) get one bin per integer.

    Arguments:
        values: the truth values, shape ``(n,)``.
        weights: their weights, shape ``(n,)``, or ``None``.
        bins: number of bins for continuous features.

    Returns:
        Increasing edges, shape ``(k + 1,)``.
    """
    distinct = np.unique(values)
    if np.all(distinct == np.round(distinct)) and len(distinct) <= bins:
        return np.arange(distinct[0] - 0.5, distinct[-1] + 1.0)
    low, high = np.quantile(values, [0.005, 0.995], weights=weights, method="inverted_cdf")
    if not high > low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def binned(
    values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of the (weighted) events per bin and its statistical uncertainty.

    Values below (above) the range are counted in the first (last) bin, so the fractions sum
    to one.

    Arguments:
        values: shape ``(n,)``.
        edges: shape ``(k + 1,)``.
        weights: shape ``(n,)`` or ``None``.

    Returns:
        ``(fraction, error)``, each of shape ``(k,)``; ``error = sqrt(sum w^2) / sum w``.
    """
    w = np.ones_like(values) if weights is None else weights
    clipped = np.clip(values, edges[0], edges[-1])
    sum_w, _ = np.histogram(clipped, edges, weights=w)
    sum_w2, _ = np.histogram(clipped, edges, weights=w**2)
    total = w.sum()
    return sum_w / total, np.sqrt(sum_w2) / total


def plot_feature_grid(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    path: str | os.PathLike,
    title: str,
    weights: Weights = None,
    label: str = "generated",
    bins: int = 40,
) -> None:
    """Save one PNG with a truth-vs-generated histogram and ratio panel per feature.

    Arguments:
        truth: reference event table (test split), physical units.
        generated: generated event table, physical units.
        features: columns to draw, one panel each, in this order.
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: vae"``.
        weights: ``(truth_weights, generated_weights)``, each of shape ``(n,)`` or ``None``.
        label: legend entry of the generated sample (the model's name).
        bins: bins per continuous feature.
    """
    tables = {
        role: as_table(table, features=features, metric=PLOT, role=role)
        for role, table in (("truth", truth), ("generated", generated))
    }
    for role, table in tables.items():
        check_finite(table, metric=PLOT, role=role)
        check_events(len(table), 1, metric=PLOT, role=role)
    w_truth, w_gen = pair_weights(
        weights, len(tables["truth"]), len(tables["generated"]), metric=PLOT
    )
    rows, columns = grid_shape(len(features))
    with style():
        width, height = figure_size(len(features))
        figure = Figure(figsize=(width, height), layout="constrained")
        figure.get_layout_engine().set(h_pad=0.03, w_pad=0.06, hspace=0.0, wspace=0.02)
        cells = figure.add_gridspec(rows, columns)
        for i, name in enumerate(features):
            main, ratio = (
                cells[divmod(i, columns)]
                .subgridspec(2, 1, height_ratios=(3, 1), hspace=0.0)
                .subplots(sharex=True)
            )
            _panel(
                main,
                ratio,
                name,
                tables["truth"][name].to_numpy(),
                tables["generated"][name].to_numpy(),
                w_truth,
                w_gen,
                bins=bins,
                label=label,
                first_column=i % columns == 0,
            )
        truth_n, gen_n = len(tables["truth"]), len(tables["generated"])
        figure.legend(
            *_legend_entries(main, ratio),
            loc="outside upper center",
            ncols=3,
            title=title,
            title_fontproperties={"size": "x-large", "weight": "bold"},
        )
        note = (
            f"truth: {truth_n:,} events, {label}: {gen_n:,} events; histograms normalised to "
            "unit sum; under- and overflow included in the first and last bins"
        )
        figure.supxlabel(textwrap.fill(note, width=int(14 * width)), fontsize=9)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)


def _panel(
    main: Axes,
    ratio: Axes,
    name: str,
    truth: np.ndarray,
    generated: np.ndarray,
    w_truth: np.ndarray | None,
    w_gen: np.ndarray | None,
    *,
    bins: int,
    label: str,
    first_column: bool,
) -> None:
    edges = histogram_edges(truth, w_truth, bins=bins)
    t, t_err = binned(truth, edges, w_truth)
    g, g_err = binned(generated, edges, w_gen)
    main.stairs(t, edges, fill=True, color=COLORS["truth"], alpha=0.25, label="truth (test split)")
    main.stairs(t, edges, color=COLORS["truth"], linewidth=1.0)
    main.stairs(g, edges, color=COLORS["generated"], label=label)
    main.set_ylim(0.0, 1.2 * max(t.max(), g.max()))
    main.tick_params(labelbottom=False)
    centres = 0.5 * (edges[1:] + edges[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(t > 0, t_err / t, np.nan)
        r = np.where(t > 0, g / t, np.nan)
        r_err = np.where(t > 0, g_err / t, np.nan)
    ratio.stairs(
        1.0 + rel,
        edges,
        baseline=1.0 - rel,
        fill=True,
        color=COLORS["band"],
        alpha=0.6,
        label="truth stat. uncertainty",
    )
    ratio.axhline(1.0, color="black", linewidth=0.8)
    ratio.errorbar(centres, r, yerr=r_err, fmt="none", ecolor=COLORS["generated"], elinewidth=0.8)
    ratio.stairs(r, edges, color=COLORS["generated"], linewidth=1.2)
    ratio.set_ylim(*RATIO_RANGE)
    ratio.set_yticks([0.75, 1.0, 1.25])
    ratio.set_xlim(edges[0], edges[-1])
    if np.all(edges - np.floor(edges) == 0.5):  # one bin per integer: ticks on integers
        ratio.xaxis.set_major_locator(MaxNLocator(integer=True))
        ratio.xaxis.set_minor_locator(NullLocator())
    ratio.set_xlabel(feature_label(name))
    if first_column:
        main.set_ylabel("fraction of events")
        ratio.set_ylabel("gen./truth", fontsize=9)


def _legend_entries(main: Axes, ratio: Axes) -> tuple[list, list[str]]:
    handles, labels = main.get_legend_handles_labels()
    more_handles, more_labels = ratio.get_legend_handles_labels()
    return handles + more_handles, labels + more_labels
