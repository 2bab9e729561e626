"""Benchmark: ingestion vs bare ``uproot.iterate`` of the same branches, and peak memory vs file size.

Writes a simulated-like jagged ntuple (6 jets, 2 leptons, MET) of N and 10·N events, both in
clusters of min(N, 200k) events so that the two files differ only in length, once as a TTree
(``mktree``/``extend``: hepgen's simulation output and most users' ntuples) and once as an
RNTuple, then runs for each format, each in a fresh process and medians of a few repeats:
bare ``uproot.iterate`` over the branches ingestion reads (the baseline, with its default serial
decompression), and ``hepgen.io.ingest_to_parquet`` as the workflow runs it by default (one
decompression thread); hepgen with ``--threads`` decompression threads
(``resources.ingest.threads``) is compared with the bare default and with the bare reader with as
many threads, for reference. Prints wall time, the ratio to the baseline (goal ≤ 1.2) and peak RSS
of ingestion for the 10× file relative to the 1× file (goal ≤ 1.3), beside the same RSS ratio of
the bare reader for reference (``uproot`` reads whole clusters, so the reader's
own memory follows the cluster size, not the step size).

Usage: python bench/ingest.py [--events 100000] [--repeats 3] [--formats TTree,RNTuple] [--threads 2]
       [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

SPEC = {
    "tree": "events",
    "objects": [
        {
            "name": "jet",
            "prefix": "jet_",
            "kinematics": "ptetaphie",
            "max": 4,
            "min_pt": 20.0,
            "max_abs_eta": 2.5,
        },
        {"name": "lep", "prefix": "lep_", "kinematics": "ptetaphie", "max": 2, "min_pt": 10.0},
    ],
    "met": {"pt": "met", "phi": "met_phi"},
    "weight": "weight",
}

BARE = """
import sys, time, resource, uproot
from concurrent.futures import ThreadPoolExecutor
from hepgen.io.tables import STEP_SIZE
files, branches, threads = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3])
parallel = {"decompression_executor": ThreadPoolExecutor(threads)} if threads > 1 else {}
t = time.perf_counter()
n = 0
for path in files:
    for arrays in uproot.iterate({path: "events"}, branches, step_size=STEP_SIZE, **parallel):
        n += len(arrays)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)
"""

HEPGEN = """
import sys, time, resource, json
from hepgen.io import DatasetSpec, ingest_to_parquet
spec = DatasetSpec.from_config(json.loads(sys.argv[3]), files=sys.argv[1].split(","))
t = time.perf_counter()
stats = ingest_to_parquet(spec, sys.argv[4], threads=int(sys.argv[5]))
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, stats["entries"])
"""


FORMATS = ("TTree", "RNTuple")


def _clusters(events: int, seed: int, chunk: int):
    """Chunks of ``chunk`` events: per collection a record array of jagged float32 fields, and
    the flat branches ``met, met_phi, weight``."""
    rng = np.random.default_rng(seed)
    for start in range(0, events, chunk):
        n = min(chunk, events - start)
        branches = {}
        for name, mean, scale in (("jet", 6, 40.0), ("lep", 2, 30.0)):
            counts = rng.poisson(mean, n)
            total = int(counts.sum())
            pt = rng.exponential(scale, total) + 5.0
            eta = rng.uniform(-3.0, 3.0, total)
            fields = {
                "pt": pt,
                "eta": eta,
                "phi": rng.uniform(-np.pi, np.pi, total),
                "e": pt * np.cosh(eta) + 1.0,
            }
            branches[name] = ak.zip(
                {f: ak.unflatten(v.astype(np.float32), counts) for f, v in fields.items()}
            )
        branches["met"] = rng.exponential(30.0, n).astype(np.float32)
        branches["met_phi"] = rng.uniform(-np.pi, np.pi, n).astype(np.float32)
        branches["weight"] = np.ones(n, dtype=np.float32)
        yield branches


def write_ntuple(path: Path, events: int, seed: int, fmt: str, chunk: int = 200_000) -> None:
    """A jagged ntuple like the simulated ones (branches ``jet_pt, ..., lep_e, met, met_phi,
    weight``), written in chunks (clusters) of ``chunk`` events, as a TTree (``mktree`` and
    ``extend``, as hepgen's simulation and most ntuples: counters ``njet, nlep``) or an RNTuple."""
    with uproot.recreate(path) as file:
        for i, branches in enumerate(_clusters(events, seed, chunk)):
            if fmt == "RNTuple":  # the same branches, one jagged field each
                flat = {}
                for name, values in branches.items():
                    if isinstance(values, ak.Array):
                        flat.update({f"{name}_{f}": values[f] for f in values.fields})
                    else:
                        flat[name] = values
                if i == 0:
                    file.mkrntuple("events", flat)
                else:
                    file["events"].extend(flat)
                continue
            if i == 0:
                file.mktree(
                    "events",
                    {
                        k: v.type if isinstance(v, ak.Array) else v.dtype
                        for k, v in branches.items()
                    },
                    counter_name=lambda counted: f"n{counted}",
                    field_name=lambda outer, inner: f"{outer}_{inner}",
                )
            file["events"].extend(branches)
    with uproot.open(path) as file:
        tree = file["events"]
        kind = "TTree" if isinstance(tree, uproot.TTree) else type(tree).__name__.split("_")[-1]
        if kind != fmt:
            msg = f"{path}: wrote a {kind}, not a {fmt}"
            raise RuntimeError(msg)


def measure(script: str, *args: str) -> tuple[float, float]:
    """Wall time [s] and peak RSS [MB] of ``script`` run in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    seconds, rss_mb, _ = out.stdout.split()
    return float(seconds), float(rss_mb)


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return float(np.median([t for t, _ in runs])), float(np.median([r for _, r in runs]))


def _format_rows(
    tmp: Path, fmt: str, events: int, repeats: int, branches: str, outs, threads: int
) -> list[dict]:
    """The rows of one ntuple format; bare and hepgen runs alternate (medians of ``repeats``).

    The goals compare hepgen as the workflow runs it by default (one decompression thread)
    with the bare reader's default; hepgen with ``threads`` decompression threads is compared
    with both the bare default and the bare reader with as many threads, for reference."""
    small, large = tmp / f"small-{fmt}.root", tmp / f"large-{fmt}.root"
    chunk = min(events, 200_000)  # the same cluster size in both files
    write_ntuple(small, events, 1, fmt, chunk)
    write_ntuple(large, 10 * events, 2, fmt, chunk)
    spec = json.dumps(SPEC)
    n = str(threads)
    commands = {
        "bare": (BARE, str(small), branches, "1"),
        "hepgen": (HEPGEN, str(small), branches, spec, None, "1"),
        "bare, threads": (BARE, str(small), branches, n),
        "hepgen, threads": (HEPGEN, str(small), branches, spec, None, n),
        "bare, large": (BARE, str(large), branches, "1"),
        "hepgen, large": (HEPGEN, str(large), branches, spec, None, "1"),
    }
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for _ in range(repeats):
        for name, (script, *args) in commands.items():
            runs[name].append(measure(script, *(next(outs) if a is None else a for a in args)))
    time_of = {name: _medians(r)[0] for name, r in runs.items()}
    rss_of = {name: _medians(r)[1] for name, r in runs.items()}
    large.unlink()
    bare = {"baseline_name": "bare uproot.iterate", "goal": "ratio <= 1.2"}
    return [
        {
            "benchmark": f"ingest {fmt} {events:,} events [s]",
            "value": time_of["hepgen"],
            "baseline": time_of["bare"],
            **bare,
        },
        {
            "benchmark": f"ingest {fmt} {10 * events:,} events [s]",
            "value": time_of["hepgen, large"],
            "baseline": time_of["bare, large"],
            **bare,
        },
        {
            "benchmark": f"ingest {fmt} {events:,} events, {threads} decompression threads [s]",
            "value": time_of["hepgen, threads"],
            "baseline": time_of["bare"],
            "baseline_name": "bare uproot.iterate",
            "goal": "reference, no goal",
        },
        {
            "benchmark": f"ingest {fmt} {events:,} events, {threads} decompression threads [s]",
            "value": time_of["hepgen, threads"],
            "baseline": time_of["bare, threads"],
            "baseline_name": f"bare uproot.iterate, {threads} decompression threads",
            "goal": "reference, no goal",
        },
        {
            "benchmark": f"ingest {fmt} peak RSS, 10x file [MB]",
            "value": rss_of["hepgen, large"],
            "baseline": rss_of["hepgen"],
            "baseline_name": "peak RSS, 1x file",
            "goal": "ratio <= 1.3",
        },
        {
            "benchmark": f"bare uproot.iterate {fmt} peak RSS, 10x file [MB]",
            "value": rss_of["bare, large"],
            "baseline": rss_of["bare"],
            "baseline_name": "its peak RSS, 1x file",
            "goal": "reference, no goal",
        },
    ]


def run(
    events: int = 100_000, repeats: int = 3, formats: tuple[str, ...] = FORMATS, threads: int = 2
) -> list[dict]:
    """Measure and return rows ``{"benchmark", "value", "baseline", "goal", ...}``:
    per ntuple format, medians of ``repeats`` fresh-process runs."""
    from hepgen.io import DatasetSpec, required_branches

    branches = ",".join(required_branches(DatasetSpec.from_config(SPEC, files=[])))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh output per run, as in the workflow (Snakemake removes outputs before a job):
        # renaming onto the previous run's table makes ext4 write the new one out first
        # (auto_da_alloc), which is no ingestion cost.
        outs = (str(Path(tmp) / f"events{i}.parquet") for i in itertools.count())
        for fmt in formats:
            rows.extend(_format_rows(Path(tmp), fmt, events, repeats, branches, outs, threads))
    return rows


def main() -> None:
    from run import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS), help="TTree,RNTuple")
    parser.add_argument(
        "--threads", type=int, default=2, help="decompression threads, reference rows"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = run(args.events, args.repeats, tuple(args.formats.split(",")), args.threads)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
