"""Sweep grids expand into named model entries; bad grids stop the run with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgen.errors import HepgenError
from hepgen.sweeps import check_unique_names, check_variants, expand_sweeps, variant_name

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"

GRID = {
    "name": "bvae_grid",
    "type": "bvae",
    "params": {"hidden": 32, "layers": 2, "gamma": 0.05},
    "training": {"epochs": 3},
    "grid": {"beta": [1.0e-6, 1.0e-3], "latent": [8, 20], "training.lr": [1.0e-3, 3.0e-4]},
}


def test_grid_expands_into_the_cartesian_product_in_written_order():
    entries = expand_sweeps([GRID])
    assert len(entries) == 2 * 2 * 2
    assert [e["name"] for e in entries[:3]] == [
        "bvae_grid-beta1e-06-latent8-lr0.001",
        "bvae_grid-beta1e-06-latent8-lr0.0003",
        "bvae_grid-beta1e-06-latent20-lr0.001",
    ]
    last = entries[-1]
    assert last["type"] == "bvae"
    assert last["params"] == {
        "hidden": 32,
        "layers": 2,
        "gamma": 0.05,
        "beta": 1.0e-3,
        "latent": 20,
    }
    assert last["training"] == {"epochs": 3, "lr": 3.0e-4}


def test_expansion_is_deterministic_and_leaves_the_config_untouched():
    before = repr(GRID)
    assert expand_sweeps([GRID]) == expand_sweeps([GRID])
    assert repr(GRID) == before


def test_every_variant_is_a_valid_models_entry():
    entries = expand_sweeps([GRID])
    check_variants(entries, SCHEMA)  # raises on the first invalid entry


def test_names_tell_close_floats_apart():
    a = variant_name("g", {"training.lr": 1.0e-3})
    b = variant_name("g", {"training.lr": 1.0000001e-3})
    assert a != b
    assert (
        variant_name("g", {"beta": 1e6, "flag": True, "act": "relu"})
        == "g-beta1000000.0-flagtrue-actrelu"
    )


def test_training_label_keeps_its_prefix_when_a_param_has_the_same_name():
    assert variant_name("g", {"lr": 1, "training.lr": 2}) == "g-lr1-training.lr2"


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ({"beta": []}, "grid axis 'beta' is []"),
        ({}, "grid is empty"),
        ({"beta": [1e-3, 1e-3]}, "duplicate model names ['g-beta0.001']"),
        ({"act": ["a/b"]}, "grid axis 'act' holds 'a/b'"),
        ({"beta": 1e-3}, "grid axis 'beta' is 0.001"),
    ],
)
def test_bad_grids_are_refused_naming_the_sweep_and_axis(grid, needle):
    sweep = {"name": "g", "type": "vae", "grid": grid}
    with pytest.raises(HepgenError, match="config sweeps") as err:
        expand_sweeps([sweep])
    assert needle in str(err.value)


def test_two_sweeps_with_the_same_name_collide():
    with pytest.raises(HepgenError, match="duplicate model names"):
        expand_sweeps([{**GRID}, {**GRID}])


def test_a_variant_named_like_an_explicit_model_collides():
    variants = expand_sweeps([{"name": "m", "type": "vae", "grid": {"beta": [0.5]}}])
    with pytest.raises(HepgenError, match=r"duplicate model names \['m-beta0.5'\]"):
        check_unique_names([{"name": "m-beta0.5", "type": "vae"}, *variants], what="config")


def test_a_training_value_the_schema_forbids_is_refused_naming_the_variant():
    variants = expand_sweeps([{"name": "g", "type": "vae", "grid": {"training.lr": [-1.0]}}])
    with pytest.raises(HepgenError, match=r"variant 'g-lr-1.0': key training.lr: -1.0"):
        check_variants(variants, SCHEMA)
