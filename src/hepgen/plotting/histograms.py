"""Grid of normalised truth-vs-generated histograms with ratio panels; the feature histograms."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import MaxNLocator, NullLocator

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.metrics.binned import binned, histogram_edges
from hepgen.metrics.inputs import (
    Weights,
    as_table,
    check_events,
    check_finite,
    column_weights,
    pair_weights,
)
from hepgen.plotting.labels import feature_label
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.weighting import absent_as_nan

__all__ = [
    "PANEL_SIZE",
    "binned",
    "figure_size",
    "grid_shape",
    "histogram_edges",
    "metric_notes",
    "plot_feature_grid",
    "plot_histograms",
    "plot_model_grid",
]

PLOT = "feature histograms"
#: Width and height of one feature panel (histogram + ratio) [inches].
PANEL_SIZE = (3.4, 3.3)
#: Smallest figure width [inches], so the legend and the notes fit beside few panels.
MIN_WIDTH = 7.0
RATIO_RANGE = (0.5, 1.5)
#: Percentage of events outside the axis range above which a panel lists it (the axis
#: range holds the central 99 % of the truth, less for a narrow peak on a long tail).
OUTSIDE_NOTE = 2.0


#: Fixed room around and between the panels [inches]: the y tick labels and label (left), the
#: title and legend (top), the x label of the last row (bottom, above the note), and between
#: panels the next panel's y tick labels (columns) and a ratio panel's x labels (rows). A fixed
#: layout draws the figure once; matplotlib's constrained layout measures every tick label
#: first and doubled the time of a 12-panel grid (measured: 7.7 against 3.4 CPU s).
MARGINS = {"left": 0.72, "right": 0.12, "top": 0.66, "bottom": 0.56, "column": 0.5, "row": 0.52}
#: Height of one line of the note under the panels [inches].
NOTE_LINE = 0.17


def grid_shape(n_features: int, *, max_columns: int = 4) -> tuple[int, int]:
    """Rows and columns of the panel grid for ``n_features`` panels."""
    columns = min(max_columns, max(n_features, 1))
    return math.ceil(n_features / columns), columns


def figure_size(n_features: int) -> tuple[float, float]:
    """Width and height [inches] of the grid figure: panels plus room for legend and notes."""
    rows, columns = grid_shape(n_features)
    return max(PANEL_SIZE[0] * columns, MIN_WIDTH), PANEL_SIZE[1] * rows + 1.0


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
    notes: Mapping[str, str] | None = None,
    allow_missing: bool = False,
) -> Figure:
    """Save one PNG with a truth-vs-generated histogram and ratio panel per column.

    Arguments:
        truth: reference event table (test split), physical units.
        generated: generated event table, physical units.
        features: columns to draw, one panel each, in this order.
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: vae"``.
        weights: ``(truth_weights, generated_weights)``, each of shape ``(n,)`` or ``None``.
        label: legend entry of the generated sample (the model's name).
        bins: bins per continuous feature.
        notes: ``{column: text}`` written in the corner of that panel (e.g. its W1 and floor).
        allow_missing: NaN marks a value undefined for an event (an observable lacking its
            objects); such events are left out of that panel and counted in the note below.

    Returns:
        The figure that was saved: per column a histogram panel (y label on the first grid
        column) above a ratio panel whose x label is the column's axis label, and one figure
        legend (truth, ``label``, truth stat. uncertainty) titled ``title``.
    """
    tables = {
        role: as_table(table, features=features, metric=PLOT, role=role)
        for role, table in (("truth", truth), ("generated", generated))
    }
    for role, table in tables.items():
        check_finite(table, metric=PLOT, role=role, allow_nan=allow_missing)
        check_events(len(table), 1, metric=PLOT, role=role)
    w_truth, w_gen = pair_weights(
        weights, len(tables["truth"]), len(tables["generated"]), metric=PLOT
    )
    rows, columns = grid_shape(len(features))
    with style():
        width, height = figure_size(len(features))
        note = (
            f"truth: {len(tables['truth']):,} events, {label}: {len(tables['generated']):,} "
            f"events; fractions of all events; a panel lists the events outside its axis "
            f"(truth / generated) where they exceed {OUTSIDE_NOTE:g} %"
        )
        if allow_missing:
            note += "; events for which a quantity is undefined are left out of its panel"
        note = textwrap.fill(note, width=int(14 * width))
        figure = Figure(figsize=(width, height))
        cells = _fixed_grid(figure, rows, columns, note_lines=note.count("\n") + 1)
        for i, name in enumerate(features):
            main, ratio = (
                cells[divmod(i, columns)]
                .subgridspec(2, 1, height_ratios=(3, 1), hspace=0.0)
                .subplots(sharex=True)
            )
            t, wt = _defined(tables["truth"][name].to_numpy(), w_truth)
            g, wg = _defined(tables["generated"][name].to_numpy(), w_gen)
            if min(len(t), len(g)) == 0:
                msg = f"{PLOT}: no event has {name!r} defined in the {'truth' if len(t) == 0 else 'generated'} sample"
                raise HepgenError(msg)
            _panel(
                main,
                ratio,
                name,
                t,
                g,
                wt,
                wg,
                bins=bins,
                label=label,
                first_column=i % columns == 0,
                note=(notes or {}).get(name),
            )
        figure.legend(
            *_legend_entries(main, ratio),
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=3,
            title=title,
            title_fontproperties={"size": "x-large", "weight": "bold"},
        )
        figure.supxlabel(note, fontsize=9, y=0.06 / height, va="bottom")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _fixed_grid(figure: Figure, rows: int, columns: int, *, note_lines: int) -> GridSpec:
    """The panel grid of ``figure`` inside the fixed :data:`MARGINS`, above the note's lines."""
    width, height = figure.get_size_inches()
    bottom = MARGINS["bottom"] + NOTE_LINE * note_lines
    gaps = {"column": MARGINS["column"] * (columns - 1), "row": MARGINS["row"] * (rows - 1)}
    panel_width = (width - MARGINS["left"] - MARGINS["right"] - gaps["column"]) / columns
    panel_height = (height - MARGINS["top"] - bottom - gaps["row"]) / rows
    return figure.add_gridspec(
        rows,
        columns,
        left=MARGINS["left"] / width,
        right=1.0 - MARGINS["right"] / width,
        top=1.0 - MARGINS["top"] / height,
        bottom=bottom / height,
        wspace=MARGINS["column"] / panel_width,
        hspace=MARGINS["row"] / panel_height,
    )


def plot_model_grid(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    path: str | os.PathLike,
    dataset: str,
    model: str,
    notes: Mapping[str, str] | None = None,
    quantities: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    subject: str | None = None,
    allow_missing: bool = False,
) -> Figure:
    """The grid of :func:`plot_feature_grid` for one model's samples against the test split.

    Events are weighted by the ``weight`` column of each table (unit weights without one).

    Arguments:
        truth: the test split, physical units.
        generated: the model's samples, physical units.
        features: the columns (of ``quantities``' tables, if given) to draw, one panel each.
        path: output PNG path, written atomically.
        dataset: the dataset's name (title).
        model: the model's name (title and legend).
        notes: ``{column: text}`` for the panel corners, e.g. from :func:`metric_notes`.
        quantities: maps an event table to the table of the drawn columns (e.g.
            :func:`hepgen.preprocessing.observables`); the event weights stay those of the events.
        subject: what the panels show, appended to the title (e.g. ``"physics observables"``).
        allow_missing: see :func:`plot_feature_grid`; a column that no event of one sample
            defines then gets no panel and is named in the title.

    Returns:
        The saved figure.
    """
    weights = column_weights(truth, generated, "weight", metric=PLOT)
    if quantities is not None:
        truth, generated = quantities(truth), quantities(generated)
    features = list(features)
    if allow_missing:
        undefined = [
            name
            for name in features
            if name in truth and name in generated
            and (truth[name].isna().all() or generated[name].isna().all())
        ]  # fmt: skip
        features = [name for name in features if name not in undefined]
        if undefined:
            lacking = f"defined in no event of one sample: {', '.join(undefined)}"
            subject = f"{subject} ({lacking})" if subject else lacking
    return plot_feature_grid(
        truth,
        generated,
        features=features,
        path=path,
        title=f"{dataset}: {model}" + (f", {subject}" if subject else ""),
        weights=weights,
        label=model,
        notes=notes,
        allow_missing=allow_missing,
    )


def plot_histograms(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    features: Sequence[str],
    metrics: Mapping[str, Any],
    path: str | os.PathLike,
    dataset: str,
    model: str,
) -> Figure:
    """Save the truth-vs-generated histograms of every feature of one model.

    An object's columns are drawn for the events where it is present (pT > 0), so zero
    padding is no spike at 0 (as the per-object metrics compare present objects only).

    Arguments:
        truth: the test split, physical units.
        generated: the model's samples, physical units.
        features: the physical columns, one panel each (the transform's ``columns``).
        metrics: the model's evaluate record; each panel notes its feature's W1 and floor.
        path: output PNG path, written atomically.
        dataset: the dataset's name.
        model: the model's name.

    Returns:
        The saved figure (see :func:`plot_feature_grid`).
    """
    return plot_model_grid(
        truth,
        generated,
        features=features,
        path=path,
        dataset=dataset,
        model=model,
        notes=metric_notes(metrics.get("w1", {}), "features"),
        quantities=present_objects,
        allow_missing=True,
    )


def present_objects(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns of absent objects (``<obj>_pt`` = 0) set to NaN."""
    columns = list(table.columns)
    values = absent_as_nan(table.to_numpy(np.float64), columns)
    return pd.DataFrame(values, columns=columns, index=table.index)


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
    note: str | None = None,
) -> None:
    edges = histogram_edges(truth, w_truth, bins=bins)
    t, t_err = binned(truth, edges, w_truth, flow=False)
    g, g_err = binned(generated, edges, w_gen, flow=False)
    outside = [100.0 * (1.0 - x.sum()) for x in (t, g)]
    if max(outside) > OUTSIDE_NOTE:
        note = f"{note}\n" if note else ""
        note += f"outside axis: {outside[0]:.1f} % / {outside[1]:.1f} %"
    main.stairs(t, edges, fill=True, color=COLORS["truth"], alpha=0.25, label="truth (test split)")
    main.stairs(t, edges, color=COLORS["truth"], linewidth=1.0)
    main.stairs(g, edges, color=COLORS["generated"], label=label)
    main.set_ylim(0.0, (1.45 if note else 1.2) * max(t.max(), g.max()))
    if note:
        main.text(0.97, 0.95, note, transform=main.transAxes, ha="right", va="top", fontsize=7.5)
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


def metric_notes(family: Mapping[str, Any], group: str, *, symbol: str = "W1/σ") -> dict[str, str]:
    """Panel notes ``value ± err`` and ``floor ± err`` of one metric family of a metrics record.

    Arguments:
        family: e.g. ``metrics["w1"]`` or ``metrics["w1_obs"]`` of an evaluate record.
        group: ``"features"`` or ``"observables"``.
        symbol: the metric's symbol in the note.

    Returns:
        ``{column: "W1/σ 0.033 ± 0.004\nfloor 0.031 ± 0.004"}``.
    """
    return {
        name: (
            f"{symbol} {e['value']:.3f} ± {e.get('err', 0.0):.3f}\n"
            f"floor {e['floor']:.3f} ± {e.get('floor_err', 0.0):.3f}"
        )
        for name, e in family.get(group, {}).items()
    }


def _defined(
    values: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    keep = ~np.isnan(values)
    if keep.all():
        return values, weights
    return values[keep], None if weights is None else weights[keep]


def _legend_entries(main: Axes, ratio: Axes) -> tuple[list, list[str]]:
    handles, labels = main.get_legend_handles_labels()
    more_handles, more_labels = ratio.get_legend_handles_labels()
    return handles + more_handles, labels + more_labels
