"""Benchmark: ingestion vs bare ``uproot.iterate`` of the same branches, and peak memory vs file size.

Writes a simulated-like jagged ntuple (6 jets, 2 leptons, MET) of N and 10·N events, both in
clusters of min(N, 200k) events so that the two files differ only in length, then runs, each in
a fresh process: bare ``uproot.iterate`` over the branches ingestion reads (the baseline), and
``hepgen.io.ingest_to_parquet``. Prints wall time, the ratio to the baseline (goal ≤ 1.2) and
peak RSS of ingestion for the 10× file relative to the 1× file (goal ≤ 1.3), beside the same
RSS ratio of the bare reader for reference (``uproot`` reads whole clusters, so the reader's
own memory follows the cluster size, not the step size).

Usage: python bench/ingest.py [--events 100000] [--json out.json]
"""

from __future__ import annotations

import argparse
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
from hepgen.io.tables import STEP_SIZE
files, branches = sys.argv[1].split(","), sys.argv[2].split(",")
t = time.perf_counter()
n = 0
for path in files:
    for arrays in uproot.iterate({path: "events"}, branches, step_size=STEP_SIZE):
        n += len(arrays)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)
"""

HEPGEN = """
import sys, time, resource, json
from hepgen.io import DatasetSpec, ingest_to_parquet
spec = DatasetSpec.from_config(json.loads(sys.argv[3]), files=sys.argv[1].split(","))
t = time.perf_counter()
stats = ingest_to_parquet(spec, sys.argv[4])
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, stats["entries"])
"""


def write_ntuple(path: Path, events: int, seed: int, chunk: int = 200_000) -> None:
    """A jagged ntuple like the simulated ones, written in chunks (clusters) of ``chunk`` events."""
    rng = np.random.default_rng(seed)
    with uproot.recreate(path) as file:
        for start in range(0, events, chunk):
            n = min(chunk, events - start)
            branches = {}
            for name, mean, scale in (("jet", 6, 40.0), ("lep", 2, 30.0)):
                counts = rng.poisson(mean, n)
                total = int(counts.sum())
                pt = rng.exponential(scale, total) + 5.0
                eta = rng.uniform(-3.0, 3.0, total)
                for field, values in (
                    ("pt", pt),
                    ("eta", eta),
                    ("phi", rng.uniform(-np.pi, np.pi, total)),
                    ("e", pt * np.cosh(eta) + 1.0),
                ):
                    branches[f"{name}_{field}"] = ak.unflatten(values.astype(np.float32), counts)
            branches["met"] = rng.exponential(30.0, n).astype(np.float32)
            branches["met_phi"] = rng.uniform(-np.pi, np.pi, n).astype(np.float32)
            branches["weight"] = np.ones(n, dtype=np.float32)
            if start == 0:
                file["events"] = branches
            else:
                file["events"].extend(branches)


def measure(script: str, *args: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    seconds, rss_mb, _ = out.stdout.split()
    return float(seconds), float(rss_mb)


def run(events: int = 100_000, repeats: int = 3) -> list[dict]:
    """Measure and return rows ``{"benchmark", "value", "baseline", "ratio", "goal", "unit"}``."""
    from hepgen.io import DatasetSpec, required_branches

    branches = ",".join(required_branches(DatasetSpec.from_config(SPEC, files=[])))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.root", Path(tmp) / "large.root"
        chunk = min(events, 200_000)  # the same cluster size in both files
        write_ntuple(small, events, 1, chunk)
        write_ntuple(large, 10 * events, 2, chunk)
        spec = json.dumps(SPEC)
        # A fresh output per run, as in the workflow (Snakemake removes outputs before a job):
        # renaming onto the previous run's table makes ext4 write the new one out first
        # (auto_da_alloc), which is no ingestion cost.
        outs = (str(Path(tmp) / f"events{i}.parquet") for i in range(repeats + 1))
        bare_small = [measure(BARE, str(small), branches) for _ in range(repeats)]
        bare = min(t for t, _ in bare_small)
        ours = [measure(HEPGEN, str(small), branches, spec, next(outs)) for _ in range(repeats)]
        rows.append(
            {
                "benchmark": f"ingest {events:,} events [s]",
                "value": min(t for t, _ in ours),
                "baseline": bare,
                "baseline_name": "bare uproot.iterate",
                "goal": "ratio <= 1.2",
            }
        )
        large_time, large_rss = measure(HEPGEN, str(large), branches, spec, next(outs))
        bare_large, bare_large_rss = measure(BARE, str(large), branches)
        rows.append(
            {
                "benchmark": f"ingest {10 * events:,} events [s]",
                "value": large_time,
                "baseline": bare_large,
                "baseline_name": "bare uproot.iterate",
                "goal": "ratio <= 1.2",
            }
        )
        rows.append(
            {
                "benchmark": "ingest peak RSS, 10x file [MB]",
                "value": large_rss,
                "baseline": min(r for _, r in ours),
                "baseline_name": "peak RSS, 1x file",
                "goal": "ratio <= 1.3",
            }
        )
        rows.append(
            {
                "benchmark": "bare uproot.iterate peak RSS, 10x file [MB]",
                "value": bare_large_rss,
                "baseline": min(r for _, r in bare_small),
                "baseline_name": "its peak RSS, 1x file",
                "goal": "reference, no goal",
            }
        )
    for row in rows:
        row["ratio"] = row["value"] / row["baseline"]
    return rows


def print_rows(rows: list[dict]) -> None:
    print(f"{'benchmark':40s} {'value':>10s} {'baseline':>10s} {'ratio':>7s}  goal (baseline)")
    for r in rows:
        print(
            f"{r['benchmark']:40s} {r['value']:10.3f} {r['baseline']:10.3f} {r['ratio']:7.2f}  {r['goal']} ({r['baseline_name']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = run(args.events)
    print_rows(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
