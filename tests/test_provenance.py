"""Provenance records name the config hash, seed, package versions and git commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import hepgen
from hepgen.provenance import config_hash, provenance

PACKAGE_DIR = Path(hepgen.__file__).resolve().parent


def _package_commit() -> str | None:
    out = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True, text=True, check=False
    )
    return out.stdout.strip() if out.returncode == 0 else None


def test_record_holds_hash_seed_versions_and_commit():
    record = provenance({"model": {"latent": 4}}, 12)
    assert record["config_hash"] == config_hash({"model": {"latent": 4}})
    assert record["seed"] == 12
    assert {"python", "numpy", "torch", "snakemake"} <= set(record["versions"])


def test_config_hash_ignores_key_order_but_not_values():
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    assert config_hash({"lr": 1.0e-3}) != config_hash({"lr": 2.0e-3})


def test_commit_comes_from_the_package_checkout_outside_git(tmp_path, monkeypatch):
    commit = _package_commit()
    if commit is None:
        pytest.skip("hepgen is not imported from a git checkout")
    monkeypatch.chdir(tmp_path)  # a workflow copied out of the checkout
    monkeypatch.delenv("HEPGEN_GIT_COMMIT", raising=False)
    assert provenance({}, 0)["git_commit"] == commit


def test_environment_variable_names_the_commit(monkeypatch):
    monkeypatch.setenv("HEPGEN_GIT_COMMIT", "0123abc")
    assert provenance({}, 0)["git_commit"] == "0123abc"
