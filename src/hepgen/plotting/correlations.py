"""Spearman correlation matrices of truth and generated features and their difference."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hepgen.files import atomic_path
from hepgen.metrics.correlation import spearman_matrix
from hepgen.metrics.inputs import Weights, as_table, check_events, check_finite, pair_weights
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import DPI, style

__all__ = ["MAX_ANNOTATED", "plot_correlations", "short_label"]

PLOT = "correlation plot"
#: Matrices with at most this many features get their values written in the cells.
MAX_ANNOTATED = 14


def short_label(name: str) -> str:
    """Axis label without its unit, for matrix ticks (``mu1_pt`` -> ``$p_T$ ($\\mu_{1}$)``)."""
    return feature_label(name).split(" [")[0]


def plot_correlations(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    path: str | os.PathLike,
    title: str,
    weights: Weights = None,
    label: str = "generated",
    note: str | None = None,
) -> Figure:
    """Save a PNG with the Spearman matrices of truth and generated events and their difference.

    Arguments:
        truth: reference event table (test split).
        generated: generated event table.
        features: the columns, in matrix order.
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: vae"``.
        weights: ``(truth_weights, generated_weights)``, each of shape ``(n,)`` or ``None``.
        label: the generated sample's name (the model).
        note: text under the difference panel, e.g. the norm with its floor.

    Returns:
        The saved figure: the truth, generated and difference matrices (titled
        ``"truth (test split)"``, ``label`` and ``"<label> − truth"``), each with a colour bar
        (``"Spearman ρ"``, ``"Δρ"``) and the features' short labels as ticks.
    """
    tables = {
        role: as_table(table, features=features, metric=PLOT, role=role)
        for role, table in (("truth", truth), ("generated", generated))
    }
    for role, table in tables.items():
        check_finite(table, metric=PLOT, role=role)
        check_events(len(table), 3, metric=PLOT, role=role)
    w_truth, w_gen = pair_weights(
        weights, len(tables["truth"]), len(tables["generated"]), metric=PLOT
    )
    rho_truth = spearman_matrix(tables["truth"].to_numpy(), w_truth)
    rho_gen = spearman_matrix(tables["generated"].to_numpy(), w_gen)
    difference = rho_gen - rho_truth
    limit = max(0.1, float(np.abs(difference).max()))
    ticks = [short_label(name) for name in features]
    side = 1.2 + 0.42 * len(features)
    with style():
        figure = Figure(figsize=(3 * side + 2.2, side + 0.9), layout="constrained")
        axes = figure.subplots(1, 3)
        panels = (
            (rho_truth, "truth (test split)", "RdBu_r", 1.0),
            (rho_gen, label, "RdBu_r", 1.0),
            (difference, f"{label} − truth", "PuOr_r", limit),
        )
        for ax, (matrix, name, cmap, vmax) in zip(axes, panels, strict=True):
            image = _matrix(ax, matrix, ticks, cmap=cmap, vmax=vmax)
            ax.set_title(name)
            figure.colorbar(image, ax=ax, shrink=0.8, label="Spearman ρ" if vmax == 1.0 else "Δρ")
        if note:
            axes[2].set_xlabel(note, fontsize=9)
        figure.suptitle(f"{title}: Spearman rank correlations", weight="bold")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _matrix(ax: Axes, matrix: np.ndarray, ticks: list[str], *, cmap: str, vmax: float):
    image = ax.imshow(matrix, cmap=cmap, vmin=-vmax, vmax=vmax)
    positions = np.arange(len(ticks))
    ax.set_xticks(positions, ticks, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(positions, ticks, fontsize=8)
    ax.minorticks_off()
    ax.tick_params(top=False, right=False)
    if len(ticks) <= MAX_ANNOTATED:
        for (i, j), value in np.ndenumerate(matrix):
            if i != j:
                shade = "white" if abs(value) > 0.6 * vmax else "black"
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color=shade,
                    in_layout=False,  # inside the axes: the layout need not measure 100s of texts
                )
    return image
