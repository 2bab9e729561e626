"""Time `snakemake -n` of a 100-variant sweep (5 beta x 5 latent x 4 learning rates).

Usage: .venv/bin/python bench/dag_sweep.py [--repeat N]
Prints one line per run and the median wall times in seconds of the tiny config alone (2 models)
and with the sweep (102 models): the difference is what the variants cost, the rest is start-up
(Python imports, parsing). The workflow is copied to a temporary directory, so nothing in the
checkout is touched.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SWEEP = {
    "sweeps": [
        {
            "name": "bvae_grid",
            "type": "bvae",
            "params": {"hidden": 32, "layers": 2},
            "grid": {
                "beta": [1.0e-6, 1.0e-5, 1.0e-4, 1.0e-3, 1.0e-2],
                "latent": [4, 8, 12, 16, 20],
                "training.lr": [1.0e-3, 5.0e-4, 3.0e-4, 1.0e-4],
            },
        }
    ]
}

log = logging.getLogger("bench.dag_sweep")


def dry_run_seconds(workdir: Path, configs: list[Path]) -> tuple[float, int]:
    """Wall time of one `snakemake -n` and the number of train jobs it lists."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile", *map(str, configs)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    jobs = sum(line.strip() == "rule train_model:" for line in result.stdout.splitlines())
    return seconds, jobs


def run(repeat: int = 3) -> list[dict]:
    """Median `snakemake -n` wall time of the tiny config and of the 100-variant sweep."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in ("Snakefile", "constraints.txt"):
            shutil.copy(ROOT / name, workdir / name)
        for name in ("workflow", "scripts", "config", "envs"):
            shutil.copytree(ROOT / name, workdir / name)
        sweep = workdir / "sweep.yaml"
        sweep.write_text(yaml.safe_dump(SWEEP))
        tiny = ROOT / "tests" / "data" / "tiny.yaml"
        medians = {}
        for label, configs in (("tiny config", [tiny]), ("100-variant sweep", [tiny, sweep])):
            times = []
            for i in range(repeat):
                seconds, jobs = dry_run_seconds(workdir, configs)
                log.info("%s, run %d: %d train jobs listed, %.2f s", label, i + 1, jobs, seconds)
                times.append(seconds)
            medians[label] = statistics.median(times)
    sweep_s, tiny_s = medians["100-variant sweep"], medians["tiny config"]
    return [
        {
            "benchmark": "snakemake -n, 100-variant sweep [s]",
            "value": sweep_s,
            "baseline": tiny_s,
            "baseline_name": "snakemake -n, tiny config (2 models)",
            "goal": "value <= 5 s",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    for row in run(args.repeat):
        log.info(
            "%s: %.2f s (baseline %.2f s, %s)",
            row["benchmark"],
            row["value"],
            row["baseline"],
            row["baseline_name"],
        )


if __name__ == "__main__":
    main()
