"""Each feature before (physical units) and after preprocessing (network input)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hepgen.files import atomic_path
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.preprocessing import Transform

__all__ = ["plot_preprocessing", "preprocessing_view"]


def preprocessing_view(
    train: pd.DataFrame, transform: Transform
) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    """The training events as the network's features, before and after the transform.

    Arguments:
        train: training events in physical units.
        transform: the fitted transform.

    Returns:
        ``(table, inputs, labels)`` for :func:`plot_preprocessing`: the events with every angle
        made relative to the reference angle (when the transform does so), the network
        inputs and the axis labels of those relative angles and of a system's cos θ* learned
        as log-odds within the selection.
    """
    inputs = transform.forward(train)
    labels = {}
    rep = transform.representation
    for system in rep.systems if rep is not None else []:
        if rep.support_cuts(system) is not None:
            column = f"{system.name}_costheta"
            labels[column] = f"log-odds of {feature_label(column)} in the selection"
    if transform.phi is not None:
        ref = transform.phi.reference
        labels |= {
            column: rf"$\Delta${feature_label(column)} to {ref}, centred"
            for column in transform.phi.relative_columns(transform.features)
        }
    return transform.coordinates(train), inputs, labels


def plot_preprocessing(
    table: pd.DataFrame,
    inputs: np.ndarray,
    *,
    features: list[str],
    path: str | os.PathLike,
    title: str,
    labels: dict[str, str] | None = None,
) -> Figure:
    """Two histograms per feature: physical values (top) and network inputs (bottom).

    Arguments:
        table: training events in physical units, n rows.
        inputs: the transformed events, shape (n, len(features)).
        features: feature names, in the column order of ``inputs``.
        path: the PNG to write (atomically).
        title: the figure title.
        labels: axis labels that replace the default ones (e.g. for relative angles).

    Returns:
        The saved figure: per feature a visible pair of panels, the physical values (x label:
        the feature's axis label) above the network inputs (``"network input: <feature>"``);
        unused grid cells are hidden.
    """
    labels = labels or {}
    columns = min(len(features), 4)
    blocks = -(-len(features) // columns)
    with style():
        figure = Figure(figsize=(3.4 * columns, 4.6 * blocks), layout="constrained")
        axes = figure.subplots(2 * blocks, columns, squeeze=False)
        for ax in axes.flat:
            ax.set_visible(False)
        for j, feature in enumerate(features):
            row, col = 2 * (j // columns), j % columns
            raw, net = axes[row, col], axes[row + 1, col]
            raw.set_visible(True)
            net.set_visible(True)
            values = table[feature].to_numpy(np.float64)
            lo, hi = np.quantile(values, [0.001, 0.999]) if len(values) else (0.0, 1.0)
            raw.hist(
                values,
                bins=50,
                range=(lo, hi) if hi > lo else None,
                color=COLORS["truth"],
                alpha=0.6,
            )
            raw.set_xlabel(labels.get(feature, feature_label(feature)))
            net.hist(inputs[:, j], bins=50, color=COLORS["generated"], histtype="step")
            net.set_xlabel(f"network input: {feature}")
            for ax in (raw, net):
                ax.set_yticks([])
        figure.suptitle(f"{title}: training features before (top) and after (bottom) preprocessing")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure
