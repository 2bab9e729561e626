"""Partial reruns: changing one model's learning rate re-runs that model's jobs and no others;
every model, samples and metrics file carries its provenance."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from toy_workflow import (
    DATASET,
    SEED,
    planned_jobs,
    run_snakemake,
    setup_toy,
    targets,
    write_toy_config,
)
from workflow_run import TINY

import hepgen
from hepgen.seeds import derive_seed

VAE = {"name": "vae", "type": "vae", "params": {"latent": 4, "hidden": 16, "layers": 2}}
GRID = {
    "name": "grid",
    "type": "vae",
    "params": {"latent": 4, "hidden": 16, "layers": 2},
    "grid": {"training.lr": [1.0e-3]},
}
MODELS = ["vae", "grid-lr0.001"]

LONG = {
    "name": "long",
    "type": "vae",
    "params": {"latent": 4, "hidden": 32, "layers": 2},
    "training": {"epochs": 12, "checkpoint_every": 2},  # a state after epoch 2, 10 more to go
}
LONG_MODEL = f"results/{DATASET}/models/long/model.pt"


def with_lr(entry: dict, lr: float) -> dict:
    return {**entry, "training": {"lr": lr}}


@pytest.fixture(scope="module")
def commit() -> str | None:
    """The commit of the package checkout when the run starts."""
    out = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=Path(hepgen.__file__).parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, commit) -> Path:
    workdir = setup_toy(
        tmp_path_factory.mktemp("reruns"), models=[with_lr(VAE, 1.0e-3), LONG], sweeps=[GRID]
    )
    # the uninterrupted training of LONG is the reference of the preemption test
    run_snakemake(workdir, "--cores", "2", *targets(MODELS), LONG_MODEL)
    return workdir


def dry_run(workdir: Path, models: list[str], *args: str) -> set[tuple[str, str]]:
    result = run_snakemake(workdir, "-n", *targets(models), *args)
    return planned_jobs(result.stdout + result.stderr)


def model_jobs(model: str) -> set[tuple[str, str]]:
    return {("train_model", model), ("sample_model", model), ("evaluate_model", model)}


@pytest.mark.workflow
def test_changing_one_learning_rate_reruns_exactly_that_models_jobs(toy_run):
    write_toy_config(toy_run, models=[with_lr(VAE, 2.0e-3)], sweeps=[GRID])
    assert dry_run(toy_run, MODELS) == model_jobs("vae")
    # the change is seen through the rule's params alone, not through file times
    assert dry_run(toy_run, MODELS, "--rerun-triggers", "params") == model_jobs("vae")


@pytest.mark.workflow
def test_a_new_grid_value_runs_only_the_new_variant(toy_run):
    grid = {**GRID, "grid": {"training.lr": [1.0e-3, 3.0e-4]}}
    write_toy_config(toy_run, models=[with_lr(VAE, 1.0e-3)], sweeps=[grid])
    assert dry_run(toy_run, [*MODELS, "grid-lr0.0003"]) == model_jobs("grid-lr0.0003")


def check_provenance(record: dict, seed: int, commit: str | None) -> None:
    assert len(record["config_hash"]) == 16
    int(record["config_hash"], 16)
    assert record["seed"] == seed
    assert record["versions"]["torch"].startswith(torch.__version__.split("+")[0])
    assert record["versions"]["hepgen"] == hepgen.__version__
    assert record["git_commit"] == commit


@pytest.mark.workflow
def test_models_samples_and_metrics_carry_provenance(toy_run, commit):
    results = toy_run / "results" / DATASET
    hashes = set()
    for model in MODELS:
        checkpoint = torch.load(results / "models" / model / "model.pt", weights_only=True)
        trained = checkpoint["extra"]["provenance"]
        check_provenance(trained, derive_seed(SEED, "train", DATASET, model), commit)
        samples = json.loads((results / "samples" / f"{model}.json").read_text())
        check_provenance(samples["provenance"], derive_seed(SEED, "sample", DATASET, model), commit)
        assert samples["training_provenance"] == trained
        metrics = json.loads((results / "metrics" / f"{model}.json").read_text())
        check_provenance(metrics["provenance"], derive_seed(SEED, "evaluate", DATASET), commit)
        hashes.add(trained["config_hash"])
    assert len(hashes) == len(MODELS)  # different model entries, different hashes


def train_until_state(workdir: Path, target: str, state: Path) -> subprocess.CompletedProcess:
    """Start training, send SIGTERM to the training process once it wrote a state, as SLURM
    does before preempting a job, and wait for Snakemake to give up."""
    cmd = [sys.executable, "-m", "snakemake", "--configfile", str(TINY), "toy.yaml"]
    cmd += ["--cores", "2", target]
    with subprocess.Popen(
        cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as smk:
        deadline = time.monotonic() + 300
        while not state.exists():
            assert smk.poll() is None, "training ended before it wrote a state"
            assert time.monotonic() < deadline, "no training state within 300 s"
            time.sleep(0.1)
        trainers = [
            p
            for p in psutil.Process(smk.pid).children(recursive=True)
            if "train.py" in " ".join(p.cmdline())
        ]
        assert len(trainers) == 1, trainers
        trainers[0].send_signal(signal.SIGTERM)
        out, _ = smk.communicate(timeout=300)
    return subprocess.CompletedProcess(cmd, smk.returncode, out.decode(), "")


@pytest.mark.workflow
def test_sigterm_saves_state_and_the_rerun_resumes_to_the_uninterrupted_model(toy_run):
    write_toy_config(toy_run, models=[with_lr(VAE, 1.0e-3), LONG], sweeps=[GRID])
    model_dir = toy_run / "results" / DATASET / "models" / "long"
    uninterrupted = torch.load(model_dir / "model.pt", weights_only=True)["state_dict"]
    for name in ("model.pt", "history.csv"):
        (model_dir / name).unlink()

    killed = train_until_state(toy_run, LONG_MODEL, model_dir / "last.ckpt")
    assert killed.returncode != 0, killed.stdout[-3000:]
    assert (model_dir / "last.ckpt").is_file() and not (model_dir / "model.pt").exists()

    run_snakemake(toy_run, "--cores", "2", LONG_MODEL)
    assert "resuming from" in (toy_run / "logs" / "train" / DATASET / "long.log").read_text()
    resumed = torch.load(model_dir / "model.pt", weights_only=True)["state_dict"]
    assert resumed.keys() == uninterrupted.keys()
    for key, tensor in uninterrupted.items():
        assert torch.equal(resumed[key], tensor), key
    assert not (model_dir / "last.ckpt").exists()
