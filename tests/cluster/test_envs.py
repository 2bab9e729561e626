"""The conda environments in envs/ (for `snakemake --sdm conda`) agree with constraints.txt and
hold everything the scripts of their rules import."""

from __future__ import annotations

import os

import pytest
from conda_envs import (
    IMPLIED,
    constraints,
    env_pins,
    missing_requirements,
    rule_envs,
    script_distributions,
)
from workflow_run import ROOT

ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PINS = constraints(ROOT / "constraints.txt")
PROVIDED = {"pip", "setuptools"}  # from the env's conda dependencies


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.stem)
def test_every_pin_is_the_constraints_pin(env):
    pins = env_pins(env)
    assert pins
    different = {n: (v, PINS.get(n)) for n, v in pins.items() if PINS.get(n) != v}
    assert not different, f"{env.name}: (env pin, constraints pin) {different}"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.stem)
def test_every_requirement_of_a_pinned_package_is_pinned(env):
    missing = missing_requirements(set(env_pins(env)) | PROVIDED)
    assert not missing, f"{env.name}: requirements not pinned: {missing}"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.stem)
def test_post_deploy_installs_hepgen_from_the_checkout(env):
    script = env.with_suffix(".post-deploy.sh")
    assert script.is_file() and os.access(script, os.X_OK), script
    assert "pip install --quiet --no-deps --editable" in script.read_text()


RULES = rule_envs(ROOT / "workflow" / "rules")


def test_rule_groups_have_their_own_environments():
    assert RULES["simulate_chunk"]["conda"] == "envs/simulate.yaml"
    assert RULES["train_model"]["conda"] == RULES["sample_model"]["conda"] == "envs/model.yaml"
    assert RULES["evaluate_model"]["conda"] == "envs/evaluate.yaml"
    # no torch (and no CUDA wheels) where no model runs
    for rule in ("simulate_chunk", "ingest_events", "preprocess_split", "evaluate_model"):
        assert "torch" not in env_pins(ROOT / RULES[rule]["conda"]), rule


@pytest.mark.parametrize("rule", sorted(r for r in RULES if "script" in RULES[r]))
def test_each_rule_env_holds_what_its_script_imports(rule):
    env = ROOT / RULES[rule]["conda"]
    needed = script_distributions(ROOT / RULES[rule]["script"], ROOT / "src")
    needed |= {extra for name, extras in IMPLIED.items() if name in needed for extra in extras}
    missing = needed - set(env_pins(env))
    assert not missing, f"rule {rule}: {env.name} lacks {sorted(missing)}"
