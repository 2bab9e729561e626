"""A user's config file describes the whole run: its `datasets`, `models` and `sweeps` replace
the default's, every other key merges over config/config.yaml, and `--config` over both."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config
from toy_workflow import write_dimuon_ntuple
from workflow_run import ROOT, TINY, copy_workflow

from hepgen.config import WHOLE_SECTIONS, replace_user_sections

CMS_ZMUMU = ROOT.parent / "shared" / "data" / "cms-opendata-2010-Zmumu.root"
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
MINE = {"files": ["mine.root"], "objects": [{"name": "mu", "max": 2}], "weight": None}
BASELINE = {"name": "baseline", "type": "bgmm", "params": {"components": 4}}


def snakemake_merged(*user_configs: dict, overrides: dict | None = None) -> dict:
    """The config as Snakemake builds it: the default, each user file, then ``--config``."""
    config = copy.deepcopy(DEFAULT)
    for user in [*user_configs, overrides or {}]:
        update_config(config, copy.deepcopy(user))
    return config


def test_user_datasets_and_models_replace_the_defaults():
    user = {"datasets": {"mine": MINE}, "models": [BASELINE], "sweeps": []}
    config = snakemake_merged(user)
    assert set(config["datasets"]) == {"dy_mumu", "mine"}  # Snakemake alone merges them
    assert replace_user_sections(config, [user]) == list(WHOLE_SECTIONS)
    assert config["datasets"] == {"mine": MINE}
    assert config["models"] == [BASELINE]
    assert config["sweeps"] == []


def test_other_sections_still_merge_key_by_key():
    user = {
        "datasets": {"mine": MINE},
        "training": {"epochs": 10},
        "resources": {"train": {"gpu": 0}},
        "evaluate": {"classifier": {"max_iter": 5}},
    }
    config = snakemake_merged(user)
    assert replace_user_sections(config, [user]) == ["datasets"]
    assert config["training"] == {**DEFAULT["training"], "epochs": 10}
    assert config["resources"]["train"] == {**DEFAULT["resources"]["train"], "gpu": 0}
    assert config["resources"]["simulate"] == DEFAULT["resources"]["simulate"]
    assert config["evaluate"]["classifier"] == {"max_iter": 5}
    assert config["evaluate"]["bootstrap"] == DEFAULT["evaluate"]["bootstrap"]
    assert config["models"] == DEFAULT["models"]  # no user file sets them: the default's


def test_the_last_file_that_sets_a_section_gives_it_whole():
    first = {"datasets": {"mine": MINE}, "models": [BASELINE]}
    second = {"datasets": {"other": {**MINE, "files": ["other.root"]}}, "seed": 3}
    config = snakemake_merged(first, second)
    assert replace_user_sections(config, [first, second]) == ["datasets", "models"]
    assert list(config["datasets"]) == ["other"]
    assert config["models"] == [BASELINE]
    assert config["seed"] == 3


def test_command_line_config_merges_over_the_users_section():
    user = {"datasets": {"mine": MINE}, "models": [BASELINE]}
    overrides = {"datasets": {"mine": {"weight": "w"}}, "seed": 5}
    config = snakemake_merged(user, overrides=overrides)
    replace_user_sections(config, [user], overrides=overrides)
    assert config["datasets"] == {"mine": {**MINE, "weight": "w"}}
    assert config["seed"] == 5
    assert user["datasets"]["mine"]["weight"] is None  # the loaded file is not changed


def test_without_user_files_nothing_changes():
    overrides = {"datasets": {"dy_mumu": {"simulate": {"events": 100}}}}
    config = snakemake_merged(overrides=overrides)
    expected = copy.deepcopy(config)
    assert replace_user_sections(config, [], overrides=overrides) == []
    assert config == expected
    assert config["datasets"]["dy_mumu"]["simulate"]["chunks"] == 4


# ---- the real workflow ----------------------------------------------------------------


MUONS = {"name": "mu", "prefix": "lep_", "max": 2, "min": 2, "min_pt": 20.0}


def user_dataset(directory: Path) -> dict:
    """A dataset read from a small ROOT file: the shared CMS 2010 dimuon ntuple when present,
    else a dimuon ntuple written here."""
    if CMS_ZMUMU.is_file():
        slots = {f: [f"{f}1", f"{f}2"] for f in ("px", "py", "pz")}
        branches = {**slots, "e": ["E1", "E2"]}
        mu = {"name": "mu", "kinematics": "pxpypze", "max": 2, "branches": branches}
        return {"files": [str(CMS_ZMUMU)], "objects": [mu], "met": None, "weight": None}
    path = write_dimuon_ntuple(directory / "mine.root", n_events=200)
    return {"files": [str(path)], "objects": [MUONS], "met": {"pt": "met", "phi": "met_phi"}}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("user_config"))
    config = {
        "datasets": {"mine": user_dataset(workdir)},
        "models": [BASELINE],
        "training": {"epochs": 3},  # epochs alone: batch_size, lr and device must merge in
    }
    (workdir / "my.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"type": "gan", "mmd": {"objects": ["jet"]}},
            "config models 'baseline': mmd.objects ['jet'] are neither collections nor systems "
            "of dataset 'mine' (it has ['mu'])",
        ),
        (
            {"type": "flow", "mmd": {"objects": ["mu"]}},
            "config models 'baseline': key 'mmd' needs a model that generates in one pass from "
            "its prior, one of ['avae', 'gan', 'vae']; found type 'flow'",
        ),
        (
            {"type": "gan", "condition": ["mu1_pt"]},
            "config models 'baseline': key 'condition' ['mu1_pt']: model type 'gan' cannot be "
            "conditioned; the types that can are ['avae', 'cfm', 'flow', 'vae']",
        ),
        (
            {"type": "flow", "condition": ["gen_pt"]},
            "config models 'baseline': key 'condition' names ['gen_pt'], which dataset 'mine' "
            "neither has nor derives",
        ),
        (
            {"type": "flow", "training": {"weights": "per_condition"}},
            "config models 'baseline': training.weights 'per_condition' needs 'condition' columns",
        ),
    ],
    ids=[
        "mmd_unknown_objects",
        "mmd_on_a_flow",
        "condition_on_a_gan",
        "condition_missing",
        "per_condition_weights_unconditioned",
    ],
)
def test_a_bad_model_option_stops_the_dry_run_naming_the_key(workdir, change, message):
    config = yaml.safe_load((workdir / "my.yaml").read_text())
    config["models"] = [{**config["models"][0], **change, "params": {}}]
    (workdir / "bad_model.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = dry_run(workdir, "--configfile", "bad_model.yaml")
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def dry_run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-n", *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)


def planned_jobs(output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in output.splitlines():
        text = line.strip()
        if text.startswith(("rule ", "localrule ")) and text.endswith(":"):
            jobs.append((text.split()[1].rstrip(":"), {}))
        elif text.startswith("wildcards: ") and jobs:
            pairs = text.removeprefix("wildcards: ").split(", ")
            jobs[-1][1].update(p.split("=", 1) for p in pairs)
    return jobs


@pytest.mark.parametrize(
    "configs", [["my.yaml"], [str(TINY), "my.yaml"]], ids=["alone", "after_tiny"]
)
def test_a_one_dataset_config_plans_only_that_dataset(workdir, configs):
    result = dry_run(workdir, "--configfile", *configs, "--config", "seed=3")
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    jobs = planned_jobs(output)
    rules = {rule for rule, _ in jobs}
    assert {"ingest_events", "train_model", "evaluate_model", "plot_leaderboard"} <= rules
    assert "simulate_chunk" not in rules
    assert {w["dataset"] for _, w in jobs if "dataset" in w} == {"mine"}
    assert {w["model"] for _, w in jobs if "model" in w} == {"baseline"}
    assert "dy_mumu" not in output


def test_command_line_config_still_reaches_the_users_dataset(workdir):
    tweak = "datasets={'mine': {'files': ['missing.root']}}"
    result = dry_run(workdir, "--configfile", "my.yaml", "--config", tweak)
    assert result.returncode != 0
    assert "'missing.root'" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"systems": [{"name": "ll", "objects": ["mu1", "mu3"]}]},
            "config datasets.mine: systems 'll': object 'mu3' does not exist",
        ),
        (
            {"met": {"pt": "met", "phi": "met_phi", "reference": "z"}},
            "config datasets.mine: met.reference 'z'",
        ),
        (
            {"objects": [MUONS, {**MUONS, "name": "again"}]},
            "config datasets.mine: objects 'mu' and 'again' both read branches",
        ),
    ],
    ids=["unknown_daughter", "unknown_met_reference", "shared_branches"],
)
def test_a_bad_dataset_stops_the_dry_run_naming_the_key(workdir, change, message):
    config = yaml.safe_load((workdir / "my.yaml").read_text())
    dataset = config["datasets"]["mine"]
    dataset |= change
    dataset["objects"][0]["min"] = 2  # both muons always there: only the named key is wrong
    if "met" in change and dataset.get("met") is None:
        pytest.skip("the CMS ntuple has no MET")
    (workdir / "bad.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = dry_run(workdir, "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
