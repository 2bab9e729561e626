"""A copy of the workflow on a small dimuon ntuple written here (no event generation), for
tests of sweeps, partial reruns, provenance and cluster execution."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import yaml
from ntuples import write_tree
from workflow_run import ROOT, TINY, copy_workflow

__all__ = [
    "DATASET",
    "SEED",
    "planned_jobs",
    "run_snakemake",
    "setup_toy",
    "targets",
    "write_dimuon_ntuple",
    "write_toy_config",
]

DATASET = "toy"
SEED = 11


def write_dimuon_ntuple(path: Path, n_events: int = 1500, seed: int = 3) -> Path:
    """Two muons per event (pT > 20 GeV, |eta| < 2.4) and MET, in GeV and rad."""
    rng = np.random.default_rng(seed)
    pt = 20.0 + rng.exponential(25.0, (n_events, 2))
    eta = rng.uniform(-2.4, 2.4, (n_events, 2))
    lep = ak.zip(
        {
            "pt": pt,
            "eta": eta,
            "phi": rng.uniform(-np.pi, np.pi, (n_events, 2)),
            "e": pt * np.cosh(eta),
        }
    )
    branches = {
        "lep": ak.from_regular(lep),
        "met": rng.exponential(20.0, n_events) + 0.5,
        "met_phi": rng.uniform(-np.pi, np.pi, n_events),
    }
    return write_tree(path, branches)


def write_toy_config(workdir: Path, *, models: list[dict], sweeps: list[dict]) -> Path:
    """The run's own config, given after tests/data/tiny.yaml: its datasets, models and sweeps
    are the run's whole (tiny's dy_mumu and models are not run), ``training`` and ``sample``
    merge over tiny's, and the keys it leaves out come from tiny (then config/config.yaml)."""
    config = {
        "seed": SEED,
        "datasets": {
            DATASET: {
                "files": [str(workdir / "data" / "toy.root")],
                "objects": [
                    {"name": "mu", "prefix": "lep_", "max": 2, "min": 2, "min_pt": 20.0},
                ],
                "met": {"pt": "met", "phi": "met_phi"},
                "weight": None,
            }
        },
        "models": models,
        "sweeps": sweeps,
        "training": {"epochs": 1, "batch_size": 64, "device": "cpu"},
        "sample": {"events": 300, "batch_size": 300},
    }
    path = workdir / "toy.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def setup_toy(workdir: Path, *, models: list[dict], sweeps: list[dict]) -> Path:
    """Copy the workflow and the SLURM profile into ``workdir``, write ntuple and config."""
    copy_workflow(workdir)
    shutil.copytree(ROOT / "profiles", workdir / "profiles")
    (workdir / "data").mkdir()
    write_dimuon_ntuple(workdir / "data" / "toy.root")
    write_toy_config(workdir, models=models, sweeps=sweeps)
    return workdir


def targets(models: list[str]) -> list[str]:
    """Samples and metrics of each model: train, sample and evaluate jobs, no plots."""
    return [f"results/{DATASET}/metrics/{m}.json" for m in models]


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``snakemake --configfile tiny.yaml toy.yaml ARGS`` in ``workdir``."""
    cmd = [sys.executable, "-m", "snakemake", "--configfile", str(TINY), "toy.yaml", *args]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(
            f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
    return result


def planned_jobs(output: str) -> set[tuple[str, str]]:
    """(rule, model or dataset wildcard, "" for none) of every job a dry run lists."""
    jobs: list[list[str]] = []
    for line in output.splitlines():
        text = line.strip()
        if text.startswith(("rule ", "localrule ")) and text.endswith(":"):
            jobs.append([text.split()[1].rstrip(":"), ""])
        elif text.startswith("wildcards: ") and jobs:
            values = dict(p.split("=", 1) for p in text.removeprefix("wildcards: ").split(", "))
            jobs[-1][1] = values.get("model", values.get("dataset", ""))
    return {(rule, name) for rule, name in jobs}
