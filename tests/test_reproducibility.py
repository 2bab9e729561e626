"""Reproducibility and recovery of the workflow: same config and seed → identical samples and
metrics; another seed → other ones; a hard-killed run is recovered by ``--unlock`` and
``--rerun-incomplete``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workflow_run import TINY, copy_workflow

TARGET = "results/dy_mumu/metrics/bvae.json"
SAMPLES = "results/dy_mumu/samples/bvae.parquet"
#: Wall-clock measurements in the metrics JSON; everything else must be reproduced exactly.
TIMINGS = ("seconds",)


def run(
    workdir: Path, *extra: str, configs: tuple[Path, ...] = (TINY,), check: bool = True
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", TARGET, "--cores", "2", *extra]
    cmd += ["--configfile", *map(str, configs)]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        pytest.fail(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def metrics(workdir: Path) -> dict:
    data = json.loads((workdir / TARGET).read_text())
    for key in TIMINGS:
        data.pop(key)
    data["sampling"].pop("rate_hz")
    return data


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory) -> list[Path]:
    dirs = [copy_workflow(tmp_path_factory.mktemp(name)) for name in ("a", "b", "other_seed")]
    run(dirs[0])
    run(dirs[1])
    (dirs[2] / "seed.yaml").write_text("seed: 8\n")
    run(dirs[2], configs=(TINY, dirs[2] / "seed.yaml"))
    return dirs


@pytest.mark.workflow
def test_same_seed_gives_identical_samples_and_metrics(three_runs):
    a, b, _ = three_runs
    assert digest(a / SAMPLES) == digest(b / SAMPLES)
    assert metrics(a) == metrics(b)
    assert metrics(a)["provenance"]["seed"] == metrics(b)["provenance"]["seed"]


@pytest.mark.workflow
def test_other_seed_gives_other_samples_and_metrics(three_runs):
    a, _, other = three_runs
    assert digest(a / SAMPLES) != digest(other / SAMPLES)
    assert metrics(a)["auc"] != metrics(other)["auc"]
    assert metrics(a)["provenance"]["seed"] != metrics(other)["provenance"]["seed"]


@pytest.mark.workflow
def test_kill_9_leaves_incomplete_marker_and_rerun_incomplete_recovers(tmp_path):
    workdir = copy_workflow(tmp_path)
    run(workdir, "--until", "preprocess_split")
    cmd = [sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile", str(TINY)]
    with subprocess.Popen(
        cmd,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        log = workdir / "logs/train/dy_mumu/bvae.log"
        deadline = time.monotonic() + 300
        while not (log.is_file() and "training" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.is_file(), "the training job never started"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (workdir / "results/dy_mumu/models/bvae/model.pt").exists(), "no half-written model"
    markers = list((workdir / ".snakemake" / "incomplete").iterdir())
    assert markers, "Snakemake marks the killed job's outputs as incomplete"
    locked = run(workdir, "--rerun-incomplete", check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    run(workdir, "--unlock")
    run(workdir, "--rerun-incomplete")
    assert (workdir / TARGET).is_file()
    assert not list((workdir / ".snakemake" / "incomplete").iterdir())
