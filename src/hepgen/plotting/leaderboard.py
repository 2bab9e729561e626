"""Leaderboard of models: AUC and mean W1 beside their truth-vs-truth floors, as CSV and Markdown."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.runtime import HepgenError, atomic_path

__all__ = ["COLUMNS", "leaderboard_table", "load_records", "write_leaderboard"]

#: Columns of the leaderboard, in order.
COLUMNS = ["dataset", "model", "auc", "auc_floor", "w1_mean", "w1_mean_floor", "n_compared"]


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
        records: ``{"dataset": str, "model": str, "metrics": <evaluate() dict>}`` each.

    Returns:
        A DataFrame with :data:`COLUMNS`, sorted by dataset and then by ascending AUC (an AUC
        of 0.5 means the classifier cannot tell generated from truth events).
    """
    rows = [_row(record) for record in records]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["dataset", "auc"], kind="stable").reset_index(drop=True)


def write_leaderboard(
    records: Sequence[Mapping[str, Any]], csv_path: str | os.PathLike, md_path: str | os.PathLike
) -> pd.DataFrame:
    """Write the leaderboard as CSV and as a Markdown table, both atomically.

    Arguments:
        records: ``{"dataset": str, "model": str, "metrics": <evaluate() dict>}`` each.
        csv_path: output ``.csv`` path.
        md_path: output ``.md`` path.

    Returns:
        The table that was written.
    """
    table = leaderboard_table(records)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        tmp.write_text(_markdown(table))
    return table


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    try:
        metrics = record["metrics"]
        return {
            "dataset": record["dataset"],
            "model": record["model"],
            "auc": metrics["auc"]["value"],
            "auc_floor": metrics["auc"]["floor"],
            "w1_mean": metrics["w1"]["mean"]["value"],
            "w1_mean_floor": metrics["w1"]["mean"]["floor"],
            "n_compared": metrics["n_compared"],
        }
    except (KeyError, TypeError) as error:
        label = f"{record.get('dataset', '?')}/{record.get('model', '?')}"
        msg = (
            f"leaderboard: the record for {label} lacks {error}; expected keys dataset, model "
            "and metrics with auc/w1 value and floor as written by the evaluate stage"
        )
        raise HepgenError(msg) from error


def _markdown(table: pd.DataFrame) -> str:
    header = "| dataset | model | AUC | AUC floor | mean W1/σ | mean W1/σ floor | events compared |"
    lines = [header, "|---|---|---:|---:|---:|---:|---:|"]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.dataset} | {row.model} | {row.auc:.4f} | {row.auc_floor:.4f} | "
            f"{row.w1_mean:.4f} | {row.w1_mean_floor:.4f} | {row.n_compared} |"
        )
    note = (
        "\nAUC: ROC AUC of a classifier separating generated from test events (0.5 = "
        "indistinguishable). W1/σ: 1-Wasserstein distance per feature in units of the test "
        "sample's standard deviation, averaged over features. Floors: the same metrics between "
        "two halves of the test split.\n"
    )
    return "\n".join(lines) + "\n" + note
