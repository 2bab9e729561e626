"""Config values are data, never code; checkpoints are tensors and plain values only."""

from __future__ import annotations

import copy

import pytest
import yaml
from workflow_run import ROOT

from hepgen.config import validate_config
from hepgen.errors import HepgenError
from hepgen.models import validate
from hepgen.preprocessing import Transform

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
PAYLOAD = "__import__('pathlib').Path('{}').touch()"


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_code_in_a_hyperparameter_is_rejected_not_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(HepgenError, match="'latent' must be an integer"):
        validate("vae", {"latent": PAYLOAD.format(marker)})
    assert not marker.exists()


@pytest.mark.parametrize("where", ["dataset", "model", "seed"])
def test_code_in_config_names_and_numbers_is_rejected(tmp_path, where):
    marker = tmp_path / "ran"
    config = copy.deepcopy(default_config())
    code = PAYLOAD.format(marker)
    if where == "dataset":
        config["datasets"][code] = config["datasets"].pop("dy_mumu")
    elif where == "model":
        config["models"][0]["name"] = code
    else:
        config["seed"] = code
    with pytest.raises(HepgenError, match="config key"):
        validate_config(config, SCHEMA)
    assert not marker.exists()


def test_code_in_a_transform_pattern_is_only_a_pattern(tmp_path):
    marker = tmp_path / "ran"
    rules = [
        {"match": PAYLOAD.format(marker), "chain": ["log"]},
        {"match": "*", "chain": ["standard"]},
    ]
    transform = Transform.from_rules(["met"], rules)
    assert [type(s).__name__ for s in transform.chains["met"]] == ["Standard"]
    assert not marker.exists()
