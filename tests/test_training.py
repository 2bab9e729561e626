"""Tests for the shared training loop: options, guards, determinism, best-epoch restore."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hepgen.models import build
from hepgen.runtime import HepgenError
from hepgen.training import TrainConfig, evaluate, train_model

SMALL = {"latent": 3, "hidden": 16, "layers": 2}


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(640, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)
    x = x.astype(np.float32)
    return x[:512], x[512:]


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{"epochs": 4, "batch_size": 64, "device": "cpu", "seed": 3, **changes})


def test_history_rows(events) -> None:
    train, val = events
    history = build("vae", 5, SMALL).fit(train, val, _config(epochs=5))
    assert len(history) == 5
    keys = {"epoch", "loss", "mse", "kl", "val_loss", "val_mse", "val_kl", "lr", "seconds"}
    assert set(history[0]) == keys
    beta = 1e-6
    for row in history:
        assert row["loss"] == pytest.approx((1 - beta) * row["mse"] + beta * row["kl"], rel=1e-5)
        assert row["seconds"] > 0
    # cosine schedule: starts at lr, decreases every epoch
    lrs = [row["lr"] for row in history]
    assert lrs[0] == pytest.approx(1e-3) and all(a > b for a, b in zip(lrs, lrs[1:], strict=False))


def test_best_epoch_is_restored(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    config = _config(epochs=6)
    history = model.fit(train, val, config)
    parts = evaluate(model, torch.as_tensor(val), batch_size=64, seed=config.seed + 2)
    assert parts["loss"] == pytest.approx(min(row["val_loss"] for row in history), rel=1e-6)


def test_selection_criterion_is_swappable(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    config = _config(epochs=4)
    history = model.fit(train, val, config, criterion=lambda model, row: row["epoch"])
    parts = evaluate(model, torch.as_tensor(val), batch_size=64, seed=config.seed + 2)
    assert parts["loss"] == pytest.approx(history[0]["val_loss"], rel=1e-6)
    assert history[0]["val_loss"] > history[-1]["val_loss"]


def test_early_stopping(events) -> None:
    train, val = events
    # an lr far below float32 resolution leaves the weights and the validation loss unchanged
    history = build("vae", 5, SMALL).fit(train, val, _config(epochs=50, lr=1e-20, patience=3))
    assert len(history) == 4


def test_plateau_schedule_and_weights(events) -> None:
    train, val = events
    weights = np.linspace(0.5, 1.5, len(train))
    config = _config(schedule="plateau")
    history = build("vae", 5, SMALL).fit(train, val, config, weights=weights)
    assert [row["lr"] for row in history] == [1e-3] * 4
    with pytest.raises(HepgenError, match="weights"):
        build("vae", 5, SMALL).fit(train, val, config, weights=weights[:-1])


def test_weights_change_the_loss(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    x = torch.as_tensor(val)
    far = (x - x.mean(0)).pow(2).sum(1)
    plain = evaluate(model, x, batch_size=64, seed=0)["mse"]
    tilted = evaluate(model, x, batch_size=64, seed=0, weights=far / far.mean())["mse"]
    assert tilted > plain  # outlying events reconstruct worse and weigh more


def test_nan_input_is_refused(events) -> None:
    train, val = events
    bad = train.copy()
    bad[7, 2] = np.nan
    with pytest.raises(HepgenError, match=r"training set has 1 NaN/inf .* \[2\]"):
        build("vae", 5, SMALL).fit(bad, val, _config())
    with pytest.raises(HepgenError, match="validation set must have shape"):
        build("vae", 5, SMALL).fit(train, val[:0], _config())


def test_divergence_is_reported(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match=r"diverged at epoch \d+: .*loss = (nan|inf)"):
        build("vae", 5, SMALL).fit(train * 1e3, val * 1e3, _config(lr=1e6, epochs=20))


def test_training_set_smaller_than_a_batch(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match="has 512 events.*batch_size = 1024"):
        build("vae", 5, SMALL).fit(train, val, _config(batch_size=1024))


def test_cpu_training_is_bit_reproducible(events) -> None:
    train, val = events
    models = [build("bvae", 5, SMALL, seed=4) for _ in range(2)]
    histories = [m.fit(train, val, _config(seed=8)) for m in models]
    assert [r["val_loss"] for r in histories[0]] == [r["val_loss"] for r in histories[1]]
    for (key, a), b in zip(
        models[0].state_dict().items(), models[1].state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key


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


def test_inputs_are_not_modified(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    before = train.copy()
    train_model(model, train, val, _config(epochs=1))
    np.testing.assert_array_equal(train, before)
