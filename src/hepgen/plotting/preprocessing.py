"""Each feature before (physical units) and after preprocessing (network input)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from hepgen.plotting.labels import feature_label  # noqa: E402
from hepgen.plotting.style import COLORS, style  # noqa: E402
from hepgen.runtime import atomic_path  # noqa: E402

__all__ = ["plot_preprocessing"]


def plot_preprocessing(
    table: pd.DataFrame,
    inputs: np.ndarray,
    *,
    features: list[str],
    path: str | os.PathLike,
    title: str,
    labels: dict[str, str] | None = None,
) -> None:
    """Two histograms per feature: physical values (top) and network inputs (bottom).

    Arguments:
        table: training events in physical units, n rows.
        inputs: the transformed events, shape (n, len(features)).
        features: feature names, in the column order of ``inputs``.
        path: the PNG to write (atomically).
        title: the figure title.
        labels: axis labels that replace the default ones (e.g. for relative angles).
    """
    labels = labels or {}
    columns = min(len(features), 4)
    blocks = -(-len(features) // columns)
    with style():
        fig, axes = plt.subplots(
            2 * blocks,
            columns,
            figsize=(3.4 * columns, 4.6 * blocks),
            squeeze=False,
            layout="constrained",
        )
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
        fig.suptitle(f"{title}: training features before (top) and after (bottom) preprocessing")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
