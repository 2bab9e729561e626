"""The weights of a reweighted sample: their distribution, and where in mass they act."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.preprocessing.observables import observables

__all__ = ["mass_observable", "plot_weights"]

PLOT = "weights plot"
_BINS = 60


def mass_observable(table: pd.DataFrame) -> pd.Series | None:
    """The first invariant-mass observable (``m_*``) of ``table``'s events, or ``None``."""
    obs = observables(table)
    names = [name for name in obs.columns if name.startswith("m_")]
    return obs[names[0]] if names else None


def plot_weights(
    samples: pd.DataFrame, info: Mapping[str, Any], *, path: str | os.PathLike, title: str
) -> Figure:
    """Save a PNG of the classifier weights of a reweighted sample.

    Arguments:
        samples: the reweighted sample (``weight`` column; 0 marks unusable events, left out).
        info: the ``refine`` record of the sample (``ess_fraction``, ``clipped``, ``clip``).
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: flow+rw"``.

    Returns:
        The saved figure. Left: the events per bin of log10 w (y label ``"events"``, x label
        ``"log10 w"``), with w = 1 and the largest weight marked. Right, where the events
        have an invariant-mass observable: the mean weight per bin of it (y label ``"mean
        weight"``) over the generated events' distribution of it, unweighted and weighted,
        on a twin axis.
    """
    if "weight" not in samples.columns:
        msg = f"{PLOT}: the sample has no 'weight' column; columns are {list(samples.columns)}"
        raise HepgenError(msg)
    weights = samples["weight"].to_numpy(dtype=float)
    used = weights > 0
    if not used.any():
        raise HepgenError(f"{PLOT}: every event has weight 0")
    mass = mass_observable(samples)
    panels = 1 if mass is None else 2
    with style():
        figure = Figure(figsize=(5.0 * panels, 3.8), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, panels))
        logs = np.log10(weights[used])
        ax = axes[0]
        counts, edges = np.histogram(logs, bins=_BINS)
        ax.stairs(counts, edges, fill=True, color=COLORS["generated"], alpha=0.7)
        ax.axvline(0.0, color="black", linestyle=":", linewidth=1.0, label="w = 1")
        ax.axvline(logs.max(), color=COLORS["band"], linestyle="--", label="largest weight")
        ax.set_yscale("log")
        ax.set_xlabel("log10 w")
        ax.set_ylabel("events")
        ax.legend()
        if mass is not None:
            _mass_panel(axes[1], mass.to_numpy(dtype=float)[used], weights[used], str(mass.name))
        ess = info.get("ess_fraction", float("nan"))
        clipped, clip = info.get("clipped", 0), info.get("clip", float("nan"))
        figure.suptitle(
            f"{title}: classifier weights, ESS {100 * ess:.1f} %, {clipped} clipped at {clip:g}",
            weight="bold",
        )
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _mass_panel(ax: Any, mass: np.ndarray, weights: np.ndarray, name: str) -> None:
    """Mean weight per mass bin, with the plain and the weighted mass distribution behind."""
    finite = np.isfinite(mass)
    mass, weights = mass[finite], weights[finite]
    edges = np.quantile(mass, [0.0, 0.995]) if len(mass) else np.array([0.0, 1.0])
    bins = np.linspace(edges[0], edges[1], 41)
    counts, _ = np.histogram(mass, bins=bins)
    summed, _ = np.histogram(mass, bins=bins, weights=weights)
    centres = 0.5 * (bins[1:] + bins[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = summed / counts
    twin = ax.twinx()
    twin.stairs(counts, bins, color=COLORS["band"], linewidth=2.5, label="generated")
    twin.stairs(summed, bins, color=COLORS["truth"], label="generated, weighted")
    twin.set_yscale("log")
    twin.set_ylabel("events")
    points = ax.plot(centres, mean, "o", color=COLORS["generated"], markersize=3)
    ax.axhline(1.0, color="black", linestyle=":", linewidth=1.0)
    finite = mean[np.isfinite(mean)]
    ax.set_ylim(0.0, 1.5 * max(finite.max(), 1.0) if len(finite) else 2.0)
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_xlabel(feature_label(name))
    ax.set_ylabel("mean weight")
    handles = [*points, *twin.get_legend_handles_labels()[0]]
    ax.legend(handles, ["mean weight", "generated", "generated, weighted"], loc="upper left")
