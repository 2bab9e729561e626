"""The founding studies' configs (config/studies/): each plans every stage of its own run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_run import ROOT, copy_workflow

from hepgen.sweeps import expand_sweeps

STUDIES = sorted((ROOT / "config" / "studies").glob("*.yaml"))
STAGES = {
    "simulate_chunk",
    "ingest_events",
    "preprocess_split",
    "train_model",
    "package_model",
    "sample_model",
    "evaluate_model",
    "plot_observables",
    "plot_leaderboard",
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("studies"))


def test_every_founding_study_has_a_config() -> None:
    readme = (ROOT / "config" / "README.md").read_text()
    assert len(STUDIES) >= 4
    for path in STUDIES:
        assert f"config/studies/{path.name}" in readme, f"config/README.md lacks {path.name}"


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_a_study_config_states_its_setup_and_plans_its_models(workdir, path) -> None:
    text = path.read_text()
    header = re.match(r"(#[^\n]*\n)+", text)
    assert header and len(header.group(0).splitlines()) >= 8, "a comment block states the study"
    assert f"--configfile config/studies/{path.name}" in header.group(0)
    config = yaml.safe_load(text)
    entries = [*config.get("models", []), *expand_sweeps(config.get("sweeps", []))]
    models = {m["name"] for m in entries}
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile", f"config/studies/{path.name}"]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    planned = set(re.findall(r"wildcards: .*?model=([^,\s]+)", output))
    assert planned == models
    datasets = set(re.findall(r"wildcards: .*?dataset=([^,\s]+)", output))
    assert datasets == set(config["datasets"])
    rules = set(re.findall(r"^\s*(?:local)?rule (\w+):", output, flags=re.MULTILINE))
    if any("pairs" in d for d in config["datasets"].values()):  # a fast simulation: one row
        assert rules >= STAGES - {"plot_observables"} | {"plot_response"}  # per object
    else:
        assert rules >= STAGES
