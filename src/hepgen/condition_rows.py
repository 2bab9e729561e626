"""Where a conditional generator's conditions come from when it samples (``sample.condition``).

Four sources, each giving the physical condition values of every event to draw:

- ``test`` (default): the rows of the dataset's test split, in order, cycled to the number
  of events (each row gets ``events / rows`` events, rounded);
- ``file``: the rows of a user's Parquet or ROOT file (``path``, ``tree``) holding the
  condition columns, cycled likewise;
- ``grid``: the Cartesian product of the values listed per condition (``grid: {name:
  [values]}``), each point getting an equal share of the events;
- ``region``: targeted generation, events whose conditions lie in a region (``region: {name:
  {min, max}}``, either bound optional). The conditions are drawn from a model of their
  distribution inside the region — a Gaussian kernel density estimate (Scott's bandwidth,
  :class:`scipy.stats.gaussian_kde`; in log space for positive conditions) of the training
  split's condition rows that fall in it, weighted by the event weights — with draws beyond a
  bound reflected back into the
  region (the reflection correction of a kernel estimate at a boundary, Schuster 1985, which
  keeps the density near a cut from being halved) and those still outside it, or outside the
  training range, rejected. Test rows are never copied.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepgen.errors import HepgenError
from hepgen.preprocessing.condition import PREFIX, condition_values

__all__ = [
    "FILE_SUFFIXES",
    "SOURCES",
    "condition_rows",
    "in_region",
    "judged_truth",
    "read_condition_file",
    "sample_region",
]

log = logging.getLogger(__name__)

SOURCES = ("test", "file", "grid", "region")
#: The file kinds a condition file may be.
FILE_SUFFIXES = (".parquet", ".root")


def condition_rows(
    options: Mapping[str, Any] | None,
    conditioning: Any,
    n: int,
    *,
    test: str | os.PathLike,
    train: str | os.PathLike,
    seed: int,
) -> pd.DataFrame:
    """The physical condition values of ``n`` events, shape (n, k), in the order of
    ``conditioning.columns``.

    Arguments:
        options: the ``sample.condition`` config (``None``: ``{source: test}``).
        conditioning: the model's :class:`hepgen.preprocessing.condition.Conditioning`.
        n: events to draw.
        test: the test split (Parquet), for ``source: test``.
        train: the training split (Parquet), for ``source: region``.
        seed: seeds the draws of ``source: region``.
    """
    options = dict(options or {})
    source = options.get("source", "test")
    names = conditioning.columns
    if source == "test":
        rows = conditioning.physical(pd.read_parquet(test))
    elif source == "file":
        rows = conditioning.physical(_read(options, names))
    elif source == "grid":
        rows = _grid(options.get("grid") or {}, names)
    elif source == "region":
        table = pd.read_parquet(train)
        weights = table["weight"].to_numpy(np.float64) if "weight" in table else None
        return _region_draw(conditioning.physical(table), weights, options, n, seed)
    else:
        msg = f"sample.condition.source must be one of {list(SOURCES)}, found {source!r}"
        raise HepgenError(msg)
    if rows.empty:
        msg = f"sample.condition (source {source!r}) gives no condition rows"
        raise HepgenError(msg)
    log.info("conditions of %d events from %d %s rows", n, len(rows), source)
    return rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)


def in_region(values: pd.DataFrame, region: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """(n,) True where every bounded column of ``values`` lies in ``[min, max)``."""
    keep = np.ones(len(values), dtype=bool)
    for name, bounds in region.items():
        x = values[name].to_numpy(np.float64)
        keep &= x >= bounds.get("min", -np.inf)
        keep &= x < bounds.get("max", np.inf)
    return keep


def sample_region(source: Mapping[str, Any] | None) -> dict[str, dict[str, float]] | None:
    """The region of a targeted sample (``sample.condition`` with source ``region``), else None."""
    if not source or source.get("source") != "region" or not source.get("region"):
        return None
    return {name: dict(bounds) for name, bounds in source["region"].items()}


def judged_truth(
    truth: pd.DataFrame, region: Mapping[str, Mapping[str, float]] | None, transform: Any
) -> pd.DataFrame:
    """The truth rows a sample is compared with: those inside a targeted sample's ``region``
    (the conditions computed from each event as :func:`condition_values` does), else all.

    Arguments:
        truth: an event table in physical units (the test split).
        region: :func:`sample_region` of the sample's condition source, or ``None``.
        transform: the dataset's fitted :class:`~hepgen.preprocessing.Transform`.

    Returns:
        The rows inside, index reset (``truth`` itself without a region).
    """
    if not region:
        return truth
    values = condition_values(truth, list(region), transform)
    return truth[in_region(values, region)].reset_index(drop=True)


def read_condition_file(
    path: str | os.PathLike, names: list[str], tree: str, where: str
) -> pd.DataFrame:
    """The condition columns ``names`` (each under its name or as ``condition_<name>``, as a
    drawn sample holds it) of a Parquet file or of the flat TTree ``tree`` of a ROOT file; the
    columns the file lacks are absent from the table (the caller names them).

    Arguments:
        path: a ``.parquet`` or ``.root`` file.
        names: the condition columns.
        tree: the TTree of a ROOT file.
        where: names the source in messages (``"condition file F"``).

    Raises:
        HepgenError: one line naming ``where``: unknown suffix, missing file or tree, or an
            unreadable file.
    """
    file = Path(path)
    if file.suffix.lower() not in FILE_SUFFIXES:
        msg = f"{where}: cannot read {file.suffix or 'no suffix'!r}; expected one of {list(FILE_SUFFIXES)}"
        raise HepgenError(msg)
    if not file.is_file():
        raise HepgenError(f"{where} does not exist")
    wanted = [*names, *(f"{PREFIX}{c}" for c in names)]
    try:
        if file.suffix.lower() == ".root":
            import uproot

            with uproot.open(file) as opened:
                if tree not in opened:
                    raise HepgenError(f"{where} has no tree {tree!r} (pass --tree)")
                keys = list(opened[tree].keys())
                present = [b for b in wanted if b in keys]
                table = opened[tree].arrays(present, library="pd") if present else None
        else:
            import pyarrow.parquet as pq

            keys = pq.ParquetFile(file).schema_arrow.names
            present = [c for c in wanted if c in keys]
            table = pd.read_parquet(file, columns=present) if present else None
    except HepgenError:
        raise
    except Exception as err:  # uproot, pyarrow: many kinds of unreadable file
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise HepgenError(f"{where} cannot be read: {reason}") from err
    return pd.DataFrame(columns=keys) if table is None else table


def _read(options: Mapping[str, Any], names: list[str]) -> pd.DataFrame:
    """The condition columns of a user's Parquet or ROOT file (``path``, ``tree``)."""
    path = options.get("path")
    if not path:
        raise HepgenError("sample.condition.source 'file' needs key 'path'")
    where = f"sample.condition.path {os.fspath(path)!r}"
    table = read_condition_file(path, names, options.get("tree", "events"), where)
    missing = [c for c in names if c not in table.columns and f"{PREFIX}{c}" not in table.columns]
    if missing:
        msg = f"{where} lacks the condition columns {missing} (it has {list(table.columns)[:12]})"
        raise HepgenError(msg)
    return table


def _grid(grid: Mapping[str, list[float]], names: list[str]) -> pd.DataFrame:
    """Every combination of the listed values of the conditions."""
    missing = [c for c in names if c not in grid]
    extra = [c for c in grid if c not in names]
    if missing or extra:
        msg = (
            f"sample.condition.grid must list values for exactly the conditions {names}; "
            f"missing {missing}, unknown {extra}"
        )
        raise HepgenError(msg)
    points = list(itertools.product(*(list(grid[c]) for c in names)))
    return pd.DataFrame(points, columns=names, dtype=np.float64)


def _reflected(values: np.ndarray, bounds: Mapping[int, tuple[float, float]]) -> np.ndarray:
    """``values`` (n, k) with every value beyond a bound mirrored about that bound."""
    values = values.copy()
    for j, (lo, hi) in bounds.items():
        x = values[:, j]
        x = np.where(x < lo, 2.0 * lo - x, x)
        values[:, j] = np.where(x >= hi, 2.0 * hi - x, x)
    return values


def _inside(values: np.ndarray, bounds: Mapping[int, tuple[float, float]]) -> np.ndarray:
    keep = np.ones(len(values), dtype=bool)
    for j, (lo, hi) in bounds.items():
        keep &= (values[:, j] >= lo) & (values[:, j] < hi)
    return keep


def _region_draw(
    train: pd.DataFrame,
    weights: np.ndarray | None,
    options: Mapping[str, Any],
    n: int,
    seed: int,
) -> pd.DataFrame:
    """``n`` condition rows from a weighted Gaussian KDE of the training rows in the region.

    The density is estimated in log space for a condition positive on the whole training
    split (a mass, a pT: it cannot leak below zero, and a falling spectrum keeps its scale),
    else in physical units; the bounds map to that space. A draw outside the training range
    of a condition is rejected and counted (the model has seen no event there, and a fitted
    quantile chain would map it onto the range's end).
    """
    from scipy.stats import gaussian_kde

    region = options.get("region") or {}
    names = list(train.columns)
    unknown = [c for c in region if c not in names]
    if not region or unknown:
        msg = (
            f"sample.condition.source 'region' needs key 'region' bounding some of the "
            f"conditions {names}; unknown {unknown}"
        )
        raise HepgenError(msg)
    inside = in_region(train, region)
    count = int(inside.sum())
    if count < 2 * train.shape[1] + 2:
        msg = f"sample.condition.region {dict(region)} holds {count} training events: too few to model"
        raise HepgenError(msg)
    values = train.to_numpy(np.float64)
    positive = (values > 0).all(axis=0)
    space = np.where(positive, np.log(np.where(positive, values, 1.0)), values)
    low, high = space.min(axis=0), space.max(axis=0)
    bounds = {}
    for j, name in enumerate(names):
        lo, hi = region.get(name, {}).get("min", -np.inf), region.get(name, {}).get("max", np.inf)
        if positive[j]:
            lo, hi = np.log(lo) if lo > 0 else -np.inf, np.log(hi) if hi > 0 else -np.inf
        bounds[j] = (max(lo, low[j]), min(hi, high[j] + np.finfo(float).eps * abs(high[j])))
    w = None if weights is None else np.clip(weights[inside], 0.0, None)
    kde = gaussian_kde(space[inside].T, weights=w)
    rng = np.random.default_rng(seed)
    drawn, kept, tried = [], 0, 0
    reflect = {j: bounds[j] for j, name in enumerate(names) if name in region}
    for _ in range(1000):
        batch = _reflected(kde.resample(max(n - kept, 1024), seed=rng).T, reflect)
        tried += len(batch)
        batch = batch[_inside(batch, bounds)]
        drawn.append(batch)
        kept += len(batch)
        if kept >= n:
            break
    else:
        raise HepgenError(f"sample.condition.region {dict(region)}: the density puts no mass in it")
    rows = np.concatenate(drawn)[:n]
    rows = np.where(positive, np.exp(rows), rows)
    log.info(
        "conditions of %d events from a KDE of %d training events in %s (%.2f %% of draws "
        "outside the training range rejected)",
        n,
        count,
        region,
        100 * (1 - kept / tried),
    )
    return pd.DataFrame(rows, columns=names)
