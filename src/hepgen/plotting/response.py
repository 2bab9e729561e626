"""Detector response of a fast simulation: resolution and efficiency vs generator pT, by |eta|."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.plotting.style import COLORS, DPI, style

__all__ = ["RESOLUTION_LABELS", "plot_response"]

PLOT = "response plot"
#: y label of the resolution row for each response quantity.
RESOLUTION_LABELS = {
    "response": r"$\sigma(p_T^{reco}/p_T^{gen})$ (IQR/1.349)",
    "deta": r"$\sigma(\eta^{reco}-\eta^{gen})$ (IQR/1.349)",
    "dphi": r"$\sigma(\phi^{reco}-\phi^{gen})$ [rad] (IQR/1.349)",
}
PT_LABEL = r"$p_T^{gen}$ [GeV]"
#: A known resolution: ``known(pt [GeV] of shape (k,), |eta|) -> sigma of shape (k,)``.
Known = Callable[[np.ndarray, float], np.ndarray]


def plot_response(
    response: Mapping[str, Any],
    *,
    path: str | os.PathLike,
    title: str,
    model: str = "generated",
    quantity: str = "response",
    known: Known | None = None,
    known_label: str = r"detector $\sigma(p_T)$",
) -> Figure:
    """Save a PNG of resolution and efficiency vs gen pT, one column per gen-|eta| bin.

    Top row: the resolution (IQR / 1.349 of ``quantity`` over found objects) per pT bin, the
    truth as points with their bootstrap errors (x: the truth's mean gen pT in the bin, x error
    bars: the bin), the generated sample as a line with a band of its errors and, when given, a
    known curve (the parametrised detector's own sigma(pT), evaluated at the |eta| bin's
    centre). Bottom row: the efficiency, drawn the same way. A bin a sample has no value for
    (too few found objects) is left out of that sample's points.

    Arguments:
        response: a :func:`hepgen.metrics.response.response_metrics` record (the metrics
            JSON's ``response`` section).
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"fastsim: cfm"``.
        model: the generated sample's legend label.
        quantity: ``"response"``, ``"deta"`` or ``"dphi"``, one the record measured.
        known: ``known(pt, abs_eta) -> sigma`` (see :data:`Known`), or ``None``.
        known_label: its legend label.

    Returns:
        The saved figure: ``2 x n_eta`` panels; the figure legend names truth, model and the
        known curve; the suptitle gives the summary and its floor.
    """
    if quantity not in response.get("quantities", []):
        msg = f"{PLOT}: the response record measured {response.get('quantities')}, not {quantity!r}"
        raise HepgenError(msg)
    pt_edges = np.asarray(response["pt_edges"], dtype=np.float64)
    eta_edges = np.asarray(response["abs_eta_edges"], dtype=np.float64)
    n_pt, n_eta = len(pt_edges) - 1, len(eta_edges) - 1
    bins = response["bins"]
    if len(bins) != n_pt * n_eta:
        msg = f"{PLOT}: expected {n_pt} x {n_eta} bins from the edges, found {len(bins)}"
        raise HepgenError(msg)
    with style():
        figure = Figure(figsize=(4.2 * n_eta, 6.4), layout="constrained")
        axes = np.asarray(figure.subplots(2, n_eta, sharex=True, squeeze=False))
        for j in range(n_eta):
            column = bins[j * n_pt : (j + 1) * n_pt]
            top, bottom = axes[0, j], axes[1, j]
            _draw(top, column, pt_edges, lambda s: s["resolution"][quantity], model)
            _draw(bottom, column, pt_edges, lambda s: s["efficiency"], model)
            if known is not None:
                grid = _grid(pt_edges)
                sigma = np.asarray(known(grid, 0.5 * (eta_edges[j] + eta_edges[j + 1])), float)
                top.plot(grid, sigma, "--", color="black", linewidth=1.2, label=known_label)
            top.set_title(rf"${eta_edges[j]:g} \leq |\eta^{{gen}}| < {eta_edges[j + 1]:g}$")
            bottom.set_xlabel(PT_LABEL)
            _pt_axis(bottom, pt_edges)
            if j == 0:
                top.set_ylabel(RESOLUTION_LABELS.get(quantity, quantity))
                bottom.set_ylabel("efficiency")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        figure.suptitle(f"{title}, detector response\n{_summary_line(response)}")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _draw(
    ax: Axes,
    column: Sequence[Mapping[str, Any]],
    pt_edges: np.ndarray,
    pick: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    model: str,
) -> None:
    """Truth points with errors and the generated line with its band, for one |eta| bin."""
    low, high = pt_edges[:-1], pt_edges[1:]
    x = np.array(
        [b["truth"]["pt_mean"] if b["truth"]["pt_mean"] is not None else np.nan for b in column]
    )
    x = np.where(np.isfinite(x), x, 0.5 * (low + high))
    values = {}
    for role in ("truth", "generated"):
        entries = [pick(b[role]) for b in column]
        values[role] = (
            np.array([np.nan if e["value"] is None else e["value"] for e in entries]),
            np.array([0.0 if e["err"] is None else e["err"] for e in entries]),
        )
    y, err = values["truth"]
    shown = np.isfinite(y)
    ax.errorbar(
        x[shown],
        y[shown],
        yerr=err[shown],
        xerr=[x[shown] - low[shown], high[shown] - x[shown]],
        fmt="o",
        markersize=4,
        color=COLORS["truth"],
        label="truth (test split)",
    )
    y, err = values["generated"]
    shown = np.isfinite(y)
    color = COLORS["generated"]
    ax.plot(x[shown], y[shown], "-", color=color, label=model)
    ax.fill_between(
        x[shown], (y - err)[shown], (y + err)[shown], color=color, alpha=0.25, linewidth=0
    )


def _grid(pt_edges: np.ndarray) -> np.ndarray:
    """200 pT values [GeV] over the binned range, log-spaced on a logarithmic axis."""
    if _logarithmic(pt_edges):
        return np.geomspace(pt_edges[0], pt_edges[-1], 200)
    return np.linspace(pt_edges[0], pt_edges[-1], 200)


def _pt_axis(ax: Axes, pt_edges: np.ndarray) -> None:
    """The binned pT range; logarithmic where it spans a factor of 5, ticks at 1-2-3-5 GeV steps."""
    ax.set_xlim(pt_edges[0], pt_edges[-1])
    if not _logarithmic(pt_edges):
        return
    ax.set_xscale("log")
    decades = 10.0 ** np.arange(
        np.floor(np.log10(pt_edges[0])), np.ceil(np.log10(pt_edges[-1])) + 1
    )
    ticks = np.outer(decades, (1.0, 2.0, 3.0, 5.0)).ravel()
    ticks = ticks[(ticks >= pt_edges[0]) & (ticks <= pt_edges[-1])]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _logarithmic(pt_edges: np.ndarray) -> bool:
    """A logarithmic pT axis where the bins span a factor of 5 or more."""
    return bool(pt_edges[-1] >= 5 * pt_edges[0] > 0)


def _summary_line(response: Mapping[str, Any]) -> str:
    """``"worst |σ ratio − 1| 0.31 (floor 0.05), within 10 %: 0/8 bins, efficiency χ² p 0.42"``."""

    def number(value: Any, form: str) -> str:
        return "n/a" if value is None else format(value, form)

    summary, floor = response["summary"], response.get("floor", {})
    used = summary["bins_used"]
    within = summary["fraction_within"]
    inside = "n/a" if within is None else f"{round(within * used)}/{used}"
    return (
        f"worst |σ ratio − 1| {number(summary['worst_deviation'], '.3f')} "
        f"(floor {number(floor.get('worst_deviation'), '.3f')}), "
        f"within {100 * response['tolerance']:g} %: {inside} bins, "
        f"efficiency χ² p {number(summary['efficiency_p_value'], '.3g')}"
    )
