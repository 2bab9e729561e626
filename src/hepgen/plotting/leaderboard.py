"""Leaderboard of models: every headline metric with its uncertainty and truth-vs-truth floor,
as a CSV table (Markdown and LaTeX versions in :mod:`hepgen.plotting.tables`) and a figure."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.plotting.headline import ENTRY, HEADLINE, SUFFIXES, Headline
from hepgen.plotting.style import COLORS, DPI, style
from hepgen.plotting.tables import latex_tables, markdown_tables

__all__ = [
    "COLUMNS",
    "LEGEND",
    "PANEL_COLUMNS",
    "leaderboard_table",
    "load_records",
    "plot_leaderboard",
    "write_leaderboard",
]


#: Columns of the leaderboard CSV, in order.
COLUMNS = [
    "dataset",
    "model",
    *(f"{h.key}{suffix}" for h in HEADLINE for suffix in SUFFIXES),
    "n_compared",
    "valid_fraction",
    "unphysical_fraction",
    "outside_selection_fraction",
    "unusable",
    "rate_hz",
    "ess_fraction",
    "eval_seconds",
]
#: Metric panels per row of the leaderboard figure.
PANEL_COLUMNS = 4
#: A metric whose positive values span more than this factor is drawn on a log axis.
LOG_SPAN = 30.0
#: Entries of the figure's legend.
LEGEND = ("model (± stat.)", "truth-vs-truth floor (± stat.)", "ideal (infinite statistics)")


def load_records(
    paths: Sequence[str | os.PathLike], *, datasets: Sequence[str], models: Sequence[str]
) -> list[dict[str, Any]]:
    """Read metrics JSON files into leaderboard records.

    Arguments:
        paths: metrics files written by the evaluate stage.
        datasets: the dataset of each file, same order as ``paths``.
        models: the model of each file, same order as ``paths``.

    Returns:
        ``[{"dataset": str, "model": str, "metrics": dict}, ...]``, one per file.
    """
    if not len(paths) == len(datasets) == len(models):
        msg = (
            f"leaderboard: expected one dataset and one model name per metrics file, found "
            f"{len(paths)} files, {len(datasets)} datasets and {len(models)} models"
        )
        raise HepgenError(msg)
    return [
        {
            "dataset": str(dataset),
            "model": str(model),
            "metrics": json.loads(Path(path).read_text()),
        }
        for path, dataset, model in zip(paths, datasets, models, strict=True)
    ]


def leaderboard_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per dataset and model, sorted by dataset and then by AUC.

    Arguments:
        records: ``{"dataset": str, "model": str, "metrics": <evaluate record>}`` each.

    Returns:
        A DataFrame with :data:`COLUMNS` (NaN where a record lacks an optional metric), sorted
        by dataset and then by ascending AUC (0.5: the classifier cannot tell generated from
        truth events).
    """
    table = pd.DataFrame([_row(record) for record in records], columns=COLUMNS)
    return table.sort_values(["dataset", "auc"], kind="stable").reset_index(drop=True)


def write_leaderboard(
    records: Sequence[Mapping[str, Any]],
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike | None = None,
    tex_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Write the leaderboard as CSV and, if asked, as Markdown and LaTeX tables, atomically.

    Arguments:
        records: ``{"dataset": str, "model": str, "metrics": <evaluate record>}`` each.
        csv_path: output ``.csv`` path.
        md_path: output ``.md`` path, or ``None``.
        tex_path: output ``.tex`` path (booktabs), or ``None``.

    Returns:
        The table that was written.
    """
    table = leaderboard_table(records)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    if md_path is not None:
        with atomic_path(md_path) as tmp:
            tmp.write_text(markdown_tables(table))
    if tex_path is not None:
        with atomic_path(tex_path) as tmp:
            tmp.write_text(latex_tables(table))
    return table


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    label = f"{record.get('dataset', '?')}/{record.get('model', '?')}"
    try:
        metrics = record["metrics"]
        row: dict[str, Any] = {"dataset": record["dataset"], "model": record["model"]}
        for headline in HEADLINE:
            found = _lookup(metrics, headline.path)
            if found is None and headline.required:
                raise KeyError("/".join(headline.path))
            for suffix, key in zip(SUFFIXES, ENTRY, strict=True):
                value = None if found is None else found.get(key)
                row[f"{headline.key}{suffix}"] = math.nan if value is None else float(value)
        row["n_compared"] = int(metrics["n_compared"])
    except (KeyError, TypeError, ValueError) as error:
        msg = (
            f"leaderboard: the record for {label} lacks {error}; expected keys dataset, model "
            "and metrics with auc/w1 value and floor as written by the evaluate stage"
        )
        raise HepgenError(msg) from error
    sampling = metrics.get("sampling") or {}
    for key in ("valid_fraction", "unphysical_fraction", "outside_selection_fraction", "rate_hz"):
        value = sampling.get(key)
        row[key] = math.nan if value is None else float(value)
    removed, excluded = sampling.get("removed"), (metrics.get("excluded") or {}).get("events")
    counts = [c for c in (removed, excluded) if c is not None]
    row["unusable"] = float(sum(counts)) if counts else math.nan
    ess = (metrics.get("refine") or {}).get("ess_fraction")
    row["ess_fraction"] = math.nan if ess is None else float(ess)
    total = (metrics.get("seconds") or {}).get("total")
    row["eval_seconds"] = math.nan if total is None else float(total)
    return row


def _lookup(metrics: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = metrics
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    if not isinstance(node, Mapping) or "value" not in node or "floor" not in node:
        return None
    return node


def plot_leaderboard(table: pd.DataFrame, *, path: str | os.PathLike) -> Figure:
    """Save a PNG with one panel per headline metric: models as rows, floors as grey bands.

    Arguments:
        table: the leaderboard (:func:`leaderboard_table`).
        path: output PNG path, written atomically.

    Returns:
        The saved figure: one panel per headline metric that some row of ``table`` has
        (titled with its name; ``dataset: model`` tick labels on the first panel of each
        row of panels), unused grid cells switched off, and a legend of :data:`LEGEND`.
    """
    if table.empty:
        msg = "leaderboard figure: the leaderboard has no rows"
        raise HepgenError(msg)
    headlines = [h for h in HEADLINE if table[h.key].notna().any()]
    rows = math.ceil(len(headlines) / PANEL_COLUMNS)
    labels = [f"{d}: {m}" for d, m in zip(table["dataset"], table["model"], strict=True)]
    height = max(1.9, 0.32 * len(table) + 1.1)
    with style():
        figure = Figure(
            figsize=(3.3 * PANEL_COLUMNS + 1.2, height * rows + 0.9), layout="constrained"
        )
        axes = figure.subplots(rows, PANEL_COLUMNS, squeeze=False).ravel()
        for i, headline in enumerate(headlines):
            _panel(axes[i], table, headline, labels if i % PANEL_COLUMNS == 0 else None)
        for ax in axes[len(headlines) :]:
            ax.axis("off")
        handles = [
            Line2D([], [], marker="o", color=COLORS["generated"], linestyle="none"),
            Patch(color=COLORS["band"], alpha=0.5),
            Line2D([], [], color="black", linestyle="--", linewidth=0.8),
        ]
        figure.legend(
            handles,
            LEGEND,
            loc="outside upper center",
            ncols=3,
            title="hepgen leaderboard",
            title_fontproperties={"size": "x-large", "weight": "bold"},
        )
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


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
