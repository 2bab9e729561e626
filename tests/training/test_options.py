"""Tests of the loop options (config key ``training``)."""

from __future__ import annotations

import dataclasses

import pytest

from hepgen.errors import HepgenError
from hepgen.training import TrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"device": "tpu"}, "device"),
        ({"schedule": "linear"}, "schedule"),
        ({"patience": -1}, "patience"),
        ({"amp": "yes"}, "amp"),
        ({"seed": True}, "seed"),
    ],
)
def test_config_rejects(changes: dict, key: str) -> None:
    with pytest.raises(HepgenError, match=f"training: key '{key}'"):
        TrainConfig(**changes)


def test_config_from_dict() -> None:
    config = TrainConfig.from_dict({"epochs": 150, "batch_size": 1024, "lr": 1, "device": "auto"})
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert dataclasses.asdict(config)["schedule"] == "cosine"
    with pytest.raises(HepgenError, match=r"unknown key\(s\) \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})


def test_patience_must_cover_the_selection_interval() -> None:
    with pytest.raises(
        HepgenError, match="'patience' \\(3\\) must be 0 or at least 'select_every' \\(5\\)"
    ):
        TrainConfig(patience=3, select_every=5)
    TrainConfig(patience=3, select_every=5, select_by="val_loss")


def test_weights_other_than_the_events_own_cannot_be_streamed():
    assert TrainConfig(weights="per_condition").weights == "per_condition"
    with pytest.raises(
        HepgenError, match="'weights' 'none' cannot be combined with 'stream_buffer'"
    ):
        TrainConfig(weights="none", stream_buffer=1000)
    with pytest.raises(HepgenError, match="training: key 'weights'"):
        TrainConfig(weights="balanced")
