"""The config is validated before any job starts, naming the offending key."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from test_workflow import copy_workflow


def dry_run(workdir, config: dict) -> subprocess.CompletedProcess:
    path = workdir / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile", str(path)]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("config"))


def test_default_dry_run_lists_every_stage(workdir):
    result = dry_run(workdir, {})
    assert result.returncode == 0, result.stderr[-3000:]
    for rule in (
        "simulate_chunk",
        "ingest_events",
        "preprocess_split",
        "train_model",
        "sample_model",
        "evaluate_model",
        "plot_histograms",
        "plot_leaderboard",
    ):
        assert rule in result.stdout, rule


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"trainig": {"epochs": 1}}, "trainig"),
        ({"training": {"epochs": "ten"}}, "config key training.epochs: 'ten' is not of type"),
        ({"training": {"lr": 0.001, "patience_typo": 3}}, "patience_typo"),
        ({"models": [{"name": "m", "type": "no_such_model"}]}, "no_such_model"),
        ({"models": [{"name": "m", "type": "vae", "params": {"latnt": 3}}]}, "latnt"),
        ({"models": [{"name": "m", "type": "vae"}, {"name": "m", "type": "bvae"}]}, "duplicate"),
        ({"datasets": {"../x": {"files": ["a.root"]}}}, "../x"),
        (
            {
                "datasets": {
                    "dy_mumu": {"simulate": {"process": "dy_ll", "events": -5, "chunks": 1}}
                }
            },
            "datasets.dy_mumu.simulate.events: -5 is less than the minimum of 1",
        ),
        ({"datasets": {"d": {"files": ["missing.root"], "objects": []}}}, "missing.root"),
    ],
)
def test_bad_config_stops_before_any_job(workdir, config, needle):
    result = dry_run(workdir, config)
    assert result.returncode != 0
    assert needle in result.stdout + result.stderr
    assert not (workdir / "results").exists()
