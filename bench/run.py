"""Run every hepgen benchmark, print one table with baselines and ratios, and write JSON.

Each benchmark module in this folder exposes ``run(**options) -> list[dict]`` whose rows hold
``benchmark`` (what, with its unit), ``value``, ``baseline``, ``baseline_name`` and ``goal``;
:func:`print_table` adds ``ratio`` (value / baseline). Baselines are measured in the same run,
so ratios stay meaningful on a noisy shared machine.

Usage: python bench/run.py [--only ingest,sampling] [--json bench-results.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("ingest", "sampling", "training", "dag_sweep", "evaluation")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def machine() -> dict:
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def print_table(rows: list[dict]) -> None:
    """Set every row's ``ratio`` (value / baseline) and print the rows as one table."""
    for row in rows:
        row["ratio"] = row["value"] / row["baseline"]
    width = max(len(r["benchmark"]) for r in rows)
    print(f"{'benchmark':{width}s} {'value':>12s} {'baseline':>12s} {'ratio':>8s}  goal (baseline)")
    for r in rows:
        print(
            f"{r['benchmark']:{width}s} {r['value']:12.4g} {r['baseline']:12.4g} {r['ratio']:8.3g}  "
            f"{r['goal']} ({r['baseline_name']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated benchmark names", default=",".join(BENCHMARKS)
    )
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()
    rows, started = [], time.perf_counter()
    for name in args.only.split(","):
        if not (HERE / f"{name}.py").is_file():
            print(f"skipping {name}: no bench/{name}.py", file=sys.stderr)
            continue
        t = time.perf_counter()
        rows.extend(load(name).run())
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    print_table(rows)
    report = {"machine": machine(), "seconds": time.perf_counter() - started, "rows": rows}
    args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
