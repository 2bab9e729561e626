"""The SLURM profile's requests reach the right rules, and requests or sweep grids a rule cannot
use stop the run before anything is submitted (dry runs: no cluster needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from toy_workflow import run_snakemake, setup_toy, targets, write_toy_config

VAE = {"name": "vae", "type": "vae", "params": {"latent": 4, "hidden": 16, "layers": 2}}
GRID = {
    "name": "grid",
    "type": "vae",
    "params": {"hidden": 16, "layers": 2},
    "grid": {"latent": [2, 4], "training.lr": [1.0e-3]},
}
VARIANTS = ["grid-latent2-lr0.001", "grid-latent4-lr0.001"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return setup_toy(tmp_path_factory.mktemp("profile"), models=[VAE], sweeps=[GRID])


def job_resources(output: str) -> dict[tuple[str, str], str]:
    """(rule, model) → the resources line of each job in a dry run."""
    jobs, rule, model = {}, None, ""
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("rule ") and text.endswith(":"):
            rule, model = text[5:-1], ""
        elif text.startswith("wildcards:") and (found := re.search(r"model=([^,\s]+)", text)):
            model = found.group(1)
        elif text.startswith("resources:") and rule:
            jobs[(rule, model)] = text
    return jobs


def test_profile_gives_gpu_jobs_the_gpu_partition_and_every_variant_a_train_job(workdir):
    result = run_snakemake(
        workdir, "-n", "--workflow-profile", "profiles/slurm", *targets(["vae", *VARIANTS])
    )
    jobs = job_resources(result.stdout + result.stderr)
    assert {m for r, m in jobs if r == "train_model"} == {"vae", *VARIANTS}
    for (rule, _), resources in jobs.items():
        on_gpu = rule in {"train_model", "sample_model"}
        assert ("slurm_partition=gpu" in resources) == on_gpu, resources
        assert ("gpu=1" in resources.split(", ")) == on_gpu, resources
        assert on_gpu or "slurm_partition=cpu" in resources, resources


def bad_profile(workdir: Path) -> list[str]:
    profile = yaml.safe_load((workdir / "profiles" / "slurm" / "config.yaml").read_text())
    profile["set-resources"]["evaluate_model"] = {"gpu": 1}
    path = workdir / "profiles" / "gpu-for-evaluate" / "config.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(profile))
    return ["--workflow-profile", str(path.parent)]


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        (
            "profile",
            "set-resources evaluate_model: asks for gpu=1, but evaluate_model runs on CPU only",
        ),
        ("empty axis", "config sweeps 'grid': grid axis 'latent' is []"),
        ("duplicate", "duplicate model names ['grid-latent2-lr0.001']"),
    ],
)
def test_bad_requests_stop_before_any_job(workdir, case, needle):
    args, sweeps, models = [], [GRID], [VAE]
    if case == "profile":
        args = bad_profile(workdir)
    elif case == "empty axis":
        sweeps = [{**GRID, "grid": {"latent": [], "training.lr": [1.0e-3]}}]
    else:
        models = [VAE, {**VAE, "name": VARIANTS[0]}]
    write_toy_config(workdir, models=models, sweeps=sweeps)
    try:
        result = run_snakemake(workdir, "-n", *args, check=False)
    finally:
        write_toy_config(workdir, models=[VAE], sweeps=[GRID])
    assert result.returncode != 0
    assert needle in result.stdout + result.stderr
    assert not (workdir / "results").exists()
