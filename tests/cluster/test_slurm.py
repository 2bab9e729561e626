"""The workflow on a real single-node SLURM cluster through the SLURM profile: training and
sampling are submitted with a GPU request to the GPU partition, everything else to the CPU one."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
import torch
from slurm_cluster import local_cluster, missing_requirements
from toy_workflow import DATASET, run_snakemake, setup_toy, targets

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

log = logging.getLogger(__name__)

MODEL = "vae"
VAE = {"name": MODEL, "type": "vae", "params": {"latent": 4, "hidden": 16, "layers": 2}}
GPU_RULES = {"train_model", "sample_model"}
# Settings of the test cluster, not of the profile: no slurmdbd (so no sacct, no accounts),
# and status checks soon after submission because every job here takes seconds.
CLUSTER_ARGS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-no-account",
    "--verbose",
)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    reason = missing_requirements()
    if reason is not None:
        pytest.skip(f"no local SLURM cluster: {reason}")
    workdir = setup_toy(tmp_path_factory.mktemp("slurm"), models=[VAE], sweeps=[])
    outputs = targets([MODEL])  # ingest, preprocess, train, sample, evaluate: five levels
    with local_cluster(tmp_path_factory.mktemp("slurm-state")) as cluster:
        start = time.monotonic()
        result = run_snakemake(
            workdir, "--workflow-profile", "profiles/slurm", *CLUSTER_ARGS, *outputs, check=False
        )
        seconds = time.monotonic() - start
        if result.returncode != 0:
            pytest.fail(
                f"snakemake on SLURM failed:\n{result.stderr[-6000:]}\n"
                f"slurmctld:\n{cluster.log('slurmctld')}\nslurmd:\n{cluster.log('slurmd')}"
            )
    running = [name for name, process in cluster.processes.items() if process.poll() is None]
    assert not running, f"daemons still running after the test: {running}"
    calls = submissions(result.stdout + result.stderr)
    log.info("SLURM run: %.1f s, %d jobs\n%s", seconds, len(calls), "\n".join(calls.values()))
    return workdir, calls


def submissions(output: str) -> dict[str, str]:
    """Rule name → the sbatch command line it was submitted with (the --wrap part cut)."""
    calls = {}
    for line in output.splitlines():
        if "sbatch call: " not in line:
            continue
        call = line.split("sbatch call: ", 1)[1].split(" --wrap=", 1)[0]
        rule = re.search(r"--comment '?rule_([a-z_]+?)_wildcards", call)
        assert rule is not None, call
        calls[rule.group(1)] = call
    return calls


def test_every_job_went_through_sbatch(slurm_run):
    _, calls = slurm_run
    assert set(calls) == {
        "ingest_events",
        "preprocess_split",
        "train_model",
        "sample_model",
        "evaluate_model",
    }


def test_training_and_sampling_ask_for_a_gpu_on_the_gpu_partition(slurm_run):
    _, calls = slurm_run
    for rule in GPU_RULES:
        assert "--gpus=1" in calls[rule].split(), calls[rule]
        assert " -p gpu " in calls[rule], calls[rule]


def test_cpu_stages_stay_on_the_cpu_partition_without_gpu(slurm_run):
    _, calls = slurm_run
    for rule in set(calls) - GPU_RULES:
        assert "--gpus" not in calls[rule] and "--gres" not in calls[rule], calls[rule]
        assert " -p cpu " in calls[rule], calls[rule]


def test_all_outputs_exist_and_training_fell_back_to_cpu(slurm_run):
    workdir, _ = slurm_run
    results = workdir / "results" / DATASET
    for path in (
        f"models/{MODEL}/model.pt",
        f"samples/{MODEL}.parquet",
        f"samples/{MODEL}.json",
        f"metrics/{MODEL}.json",
    ):
        assert (results / path).is_file(), path
    # the job saw CUDA_VISIBLE_DEVICES=0 from the declared GPU but has no CUDA device
    checkpoint = torch.load(results / "models" / MODEL / "model.pt", weights_only=True)
    assert checkpoint["extra"]["device"] == "cpu"
