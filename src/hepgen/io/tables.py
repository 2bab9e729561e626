"""Ingestion: ROOT ntuples (flat or jagged, polar or Cartesian) → fixed-width event tables."""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import uproot

from hepgen.errors import HepgenError, positive_int
from hepgen.files import atomic_path
from hepgen.io.columns import table_chunk
from hepgen.io.pair_columns import check_pair_roles, log_pair_counts, pair_chunk
from hepgen.io.roles import check_roles
from hepgen.io.spec import DatasetSpec, ObjectSpec, expand_files

__all__ = [
    "PARQUET_OPTIONS",
    "STEP_SIZE",
    "ingest",
    "ingest_to_parquet",
    "iter_columns",
    "required_branches",
    "write_stream",
    "write_table",
]

log = logging.getLogger(__name__)

#: Bytes read per ``uproot.iterate`` step: bounds peak memory (a few times this, or a few
#: times the file's cluster or basket size where that is larger) whatever the file size.
STEP_SIZE = "16 MB"

#: The steps that no later read can hide (the last of a file, or one followed by fewer entries
#: than it holds) are converted in this many slices of at least ``_MIN_SLICE`` events (one
#: Parquet row group each), so that writing a slice overlaps converting the next. Which steps
#: are sliced depends only on the file, so the output is the same file every run.
_SLICES, _MIN_SLICE = 4, 16_384

#: Parquet writer options for event tables: dictionary encoding only costs time on float columns.
PARQUET_OPTIONS = {"use_dictionary": False, "compression": "snappy"}


def required_branches(spec: DatasetSpec) -> list[str]:
    """Every branch the spec reads, in a stable order."""
    names: list[str] = spec.pairs.branches() if spec.pairs is not None else []
    for obj in spec.objects:
        for branch in obj.branches.values():
            names.extend(branch if isinstance(branch, list) else [branch])
    if spec.met is not None:
        names.extend(b for b in (spec.met.pt, spec.met.phi, spec.met.px, spec.met.py) if b)
    if spec.weight:
        names.append(spec.weight)
    names.extend(spec.scalars)
    return list(dict.fromkeys(names))


def _open_tree(path: str, spec: DatasetSpec, branches: list[str]) -> tuple[Any, Any, int]:
    """Open ``path`` and check that the tree and branches exist and that each branch has the
    shape and dtype of its role (:func:`hepgen.io.roles.check_roles`), reading no data.

    Returns:
        The open file (the caller closes it), its tree (a TTree or an RNTuple) and its entries.
    """
    try:
        file = uproot.open(path, object_cache=None, array_cache=None)
    except Exception as err:  # uproot raises many types for corrupt files
        msg = f"cannot read {path!r} as a ROOT file: {type(err).__name__}: {err}"
        raise HepgenError(msg) from err
    tree = spec.tree
    try:
        try:
            trees = [k.split(";")[0] for k in file.keys(recursive=True)]
        except Exception as err:
            msg = f"cannot read the directory of ROOT file {path!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
        if tree not in trees:
            close = difflib.get_close_matches(tree, trees, n=3, cutoff=0.0)
            msg = f"{path!r}: no tree {tree!r}; the file holds {close or 'no objects'}"
            raise HepgenError(msg)
        try:
            ttree = file[tree]
            available = set(ttree.keys())
            entries = int(ttree.num_entries)
        except Exception as err:
            msg = f"{path!r}: cannot read tree {tree!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
        for branch in branches:
            if branch not in available:
                close = difflib.get_close_matches(branch, sorted(available), n=3, cutoff=0.5)
                hint = f"; closest: {close}" if close else ""
                msg = f"{path!r}, tree {tree!r}: no branch {branch!r}{hint}"
                raise HepgenError(msg)
        try:
            check_roles(ttree, spec, path)
            if spec.pairs is not None:
                check_pair_roles(ttree, spec.pairs, tree, path)
        except HepgenError:
            raise
        except Exception as err:  # unreadable type metadata
            msg = f"{path!r}: cannot read the branch types of tree {tree!r}: {type(err).__name__}: {err}"
            raise HepgenError(msg) from err
    except BaseException:
        file.close()
        raise
    return file, ttree, entries


def _next_step(steps: Iterator, path: str, tree: str) -> tuple[Any, Any] | None:
    """The next (arrays, report) of an ``iterate`` generator, ``None`` at its end."""
    try:
        return next(steps)
    except StopIteration:
        return None
    except Exception as err:  # a truncated or corrupt basket surfaces only when read
        msg = f"{path!r}: cannot read tree {tree!r}: {type(err).__name__}: {err}"
        raise HepgenError(msg) from err


def _read_tree(
    ttree: Any,
    path: str,
    spec: DatasetSpec,
    branches: list[str],
    step_size: str | int,
    decompress: ThreadPoolExecutor | None,
):
    """Yield (columns, removed) per ``iterate`` step of one open tree; read errors name the file.

    A background thread reads the next step while this one is converted (decompression and
    most NumPy work release the GIL): at most two steps are held, the one being converted and
    the one being read. ``decompress``, if given, decompresses a step's baskets in parallel
    (one per branch and cluster). A large step that the next read cannot hide (see
    ``_SLICES``) is converted in slices, so that the consumer (the Parquet writer) starts on
    the first while the rest are converted.
    """
    parallel = {"decompression_executor": decompress} if decompress is not None else {}
    # An RNTuple subfield ``parent.field`` is read nested under ``parent``: fetched by name.
    nested = isinstance(ttree, uproot.behaviors.RNTuple.HasFields) and any(
        "." in b for b in branches
    )
    steps = ttree.iterate(branches, step_size=step_size, report=True, **parallel)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hepgen-read") as reader:
        ahead = reader.submit(_next_step, steps, path, spec.tree)
        try:
            while (step := ahead.result()) is not None:
                ahead = reader.submit(_next_step, steps, path, spec.tree)
                arrays, report = step
                del step
                if nested:
                    arrays = ak.zip(
                        {b: arrays[tuple(b.split("."))] for b in branches}, depth_limit=1
                    )
                start, events = report.tree_entry_start, len(arrays)
                last = ttree.num_entries - (start + events) < events
                size = max(-(-events // _SLICES), _MIN_SLICE) if last else max(events, 1)
                for lo in range(0, events, size):
                    piece = arrays[lo : lo + size] if size < events else arrays
                    chunk = table_chunk if spec.pairs is None else pair_chunk
                    yield chunk(piece, spec, branches, path, start + lo)
                    del piece
                del arrays  # not held while the next step is read
        finally:
            ahead.cancel()
            wait([ahead])
            steps.close()


def iter_columns(
    spec: DatasetSpec,
    *,
    step_size: str | int = STEP_SIZE,
    stats: dict[str, Any] | None = None,
    threads: int = 1,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the event table's columns (float64 arrays) step by step.

    Every file is checked (tree, branches) before any is read. A background thread reads the
    next step while the current one is converted and consumed, so at most two steps are in
    memory at once.

    Arguments:
        spec: the dataset description.
        step_size: bytes (a string such as ``"50 MB"``) or entries (an int) per ``uproot.iterate`` step.
        stats: filled, once the iteration ends, with ``{"files", "entries", "events", "removed"}``
            and, for a dataset with a ``weight`` branch, ``weight_sum`` over the events kept.
        threads: threads decompressing baskets (zlib, LZ4, ZSTD, LZMA release the GIL); 1
            decompresses them one after the other, as ``uproot.iterate`` does by default.

    Raises:
        HepgenError: unreadable files, missing trees or branches, branches whose shape or dtype
            does not fit their role (:mod:`hepgen.io.roles`), NaN/inf values, jagged branches
            of mismatched lengths, empty trees, or no event passing the selection.
    """
    positive_int(threads, "ingestion: threads")
    files = expand_files(spec.files)
    branches = required_branches(spec)
    if not branches:
        msg = "the dataset reads no branch: give objects, met, weight or scalars"
        raise HepgenError(msg)
    entries, events, opened = 0, 0, None
    weight_sum = 0.0
    sums_weights = bool(spec.weight) and spec.pairs is None  # pairs rows repeat event weights
    removed = dict.fromkeys((o.name for o in spec.objects), 0)
    pair_counts: dict[str, int] = {}  # a pairs dataset's object counts (pair_chunk)
    decompress = (
        ThreadPoolExecutor(threads, thread_name_prefix="hepgen-decompress") if threads > 1 else None
    )
    try:
        for path in files:  # check every file before reading any; the first stays open
            file, ttree, count = _open_tree(path, spec, branches)
            entries += count
            if opened is None:
                opened = file, ttree
            else:
                file.close()
        if entries == 0:
            msg = f"tree {spec.tree!r} is empty in every input file: {files}"
            raise HepgenError(msg)
        for path in files:
            if opened is not None:
                (file, ttree), opened = opened, None
            else:
                file, ttree, _ = _open_tree(path, spec, branches)
            with file:
                steps = _read_tree(ttree, path, spec, branches, step_size, decompress)
                for columns, chunk_removed in steps:
                    events += len(next(iter(columns.values())))
                    if sums_weights:
                        weight_sum += float(np.sum(columns["weight"], dtype=np.float64))
                    for name, count in chunk_removed.items():
                        tally = removed if spec.pairs is None else pair_counts
                        tally[name] = tally.get(name, 0) + count
                    yield columns
                    del columns  # not held while the next step is read
    finally:
        if opened is not None:
            opened[0].close()
        if decompress is not None:
            decompress.shutdown(cancel_futures=True)
    for name, count in removed.items():
        if count:
            log.info(
                "removed %d of %d events with too few selected '%s' objects", count, entries, name
            )
    if spec.pairs is not None:
        log_pair_counts(spec.pairs, pair_counts, entries)
    if events == 0:
        cuts = "; ".join(
            f"{_selection(o)} removes {removed[o.name]}" for o in spec.objects if removed[o.name]
        )
        if spec.pairs is not None:
            cuts = f"no gen object has {spec.pairs.gen.selection()} (pairs.gen)"
        msg = f"no event of {entries} in tree {spec.tree!r} of {files} passes the object selection: {cuts}"
        raise HepgenError(msg)
    log.info("ingested %d of %d events from %d files", events, entries, len(files))
    if stats is not None:
        stats.update(files=files, entries=entries, events=events, removed=removed)
        if sums_weights:
            stats["weight_sum"] = weight_sum
        if spec.pairs is not None:  # ``events`` counts table rows: gen objects
            stats["pairs"] = pair_counts


def _selection(obj: ObjectSpec) -> str:
    """The event selection of one collection in words, as in its config entry."""
    cuts = [f"pt > {obj.min_pt:g} GeV"] if obj.min_pt else []
    if obj.max_abs_eta is not None:
        cuts.append(f"|eta| < {obj.max_abs_eta:g}")
    plural = "object" if obj.min == 1 else "objects"
    return f"objects '{obj.name}' (min {obj.min} {plural}{' with ' if cuts else ''}{' and '.join(cuts)})"


def ingest(
    spec: DatasetSpec, *, step_size: str | int = STEP_SIZE, threads: int = 1
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the spec's ROOT files into one in-memory event table (``threads``: see :func:`iter_columns`).

    Returns:
        The event table (float64 columns in GeV and rad) and the statistics of :func:`iter_columns`.
    """
    stats: dict[str, Any] = {}
    steps = iter_columns(spec, step_size=step_size, stats=stats, threads=threads)
    table = pd.concat([pd.DataFrame(columns) for columns in steps], ignore_index=True)
    return table, stats


def ingest_to_parquet(
    spec: DatasetSpec,
    path: str | os.PathLike,
    *,
    step_size: str | int = STEP_SIZE,
    threads: int = 1,
) -> dict[str, Any]:
    """Stream the event table into a Parquet file (atomically), one row group per step.

    Each step is converted while a background thread reads the next one (see
    :func:`iter_columns`, which ``threads`` is passed to) and another writes the previous
    slice, so memory holds at most two steps (and one converted slice) whatever the file size.

    Returns:
        The statistics of :func:`iter_columns` plus ``"columns"``.
    """
    stats: dict[str, Any] = {}
    steps = iter_columns(spec, step_size=step_size, stats=stats, threads=threads)
    stats["columns"] = write_stream(path, (pa.table(columns) for columns in steps))
    return stats


def write_stream(path: str | os.PathLike, chunks: Iterable[pa.Table]) -> list[str]:
    """Write ``chunks`` (same schema) to one Parquet file atomically, one row group each.

    A background thread writes each chunk while the next is produced, with one write in
    flight, so memory holds at most two chunks; the file appears under ``path`` only when
    every chunk is written (not when ``chunks`` raises).

    Returns:
        The column names.

    Raises:
        HepgenError: the disk is full or the file passes a size limit midway (see
            :func:`hepgen.files.atomic_path`); neither ``path`` nor a temporary file is left.
    """
    writer, written = None, None
    with (
        atomic_path(path) as tmp,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="hepgen-write") as background,
    ):
        try:
            for chunk in chunks:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, chunk.schema, **PARQUET_OPTIONS)
                if written is not None:
                    written.result()  # one write in flight: memory holds at most one more chunk
                written = background.submit(writer.write_table, chunk)
                del chunk
            if written is not None:
                written.result()
        finally:
            if written is not None:
                wait([written])
            if writer is not None:
                writer.close()
    return writer.schema.names if writer is not None else []


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write an event table to Parquet atomically; a write failing midway raises
    :class:`HepgenError` as :func:`write_stream` does."""
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False, **PARQUET_OPTIONS)
