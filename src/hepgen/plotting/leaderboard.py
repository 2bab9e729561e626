"""Leaderboard of models: every headline metric with its uncertainty and truth-vs-truth floor."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.plotting.headline import ENTRY, HEADLINE, SUFFIXES
from hepgen.plotting.tables import latex_tables, markdown_tables
from hepgen.runtime import HepgenError, atomic_path

__all__ = [
    "COLUMNS",
    "leaderboard_table",
    "load_records",
    "write_leaderboard",
]


#: Columns of the leaderboard CSV, in order.
COLUMNS = [
    "dataset",
    "model",
    *(f"{h.key}{suffix}" for h in HEADLINE for suffix in SUFFIXES),
    "n_compared",
    "valid_fraction",
    "rate_hz",
    "eval_seconds",
]


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
    for key in ("valid_fraction", "rate_hz"):
        value = sampling.get(key)
        row[key] = math.nan if value is None else float(value)
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
