"""Tests of the shared training loop: history, restored epoch, stopping, guards, determinism."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from small_models import SMALL, correlated_events, loop_config

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.seeds import derive_seed
from hepgen.training import train_model
from hepgen.training.epoch import validation_losses

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    return correlated_events()


def test_history_rows(events) -> None:
    train, val = events
    history = train_model(build("vae", 5, SMALL), train, val, loop_config(epochs=5))
    assert len(history) == 5
    keys = {
        "epoch",
        "loss",
        "mse",
        "kl",
        "val_loss",
        "val_mse",
        "val_kl",
        "metric",
        "lr",
        "seconds",
    }
    assert set(history[0]) == keys
    # the sampled metric is computed every select_every (5) epochs
    assert all(np.isnan(row["metric"]) for row in history[:4]) and history[4]["metric"] > 0
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
    config = loop_config(epochs=6)
    history = train_model(model, train, val, config)
    parts = validation_losses(
        model, torch.as_tensor(val), batch_size=64, seed=derive_seed(config.seed, "validation")
    )
    assert parts["loss"] == pytest.approx(min(row["val_loss"] for row in history), rel=1e-6)


def test_early_stopping(events) -> None:
    train, val = events
    # an lr far below float32 resolution leaves the weights and the validation loss unchanged
    history = train_model(
        build("vae", 5, SMALL), train, val, loop_config(epochs=50, lr=1e-20, patience=3)
    )
    assert len(history) == 4


def test_plateau_schedule_and_weights(events) -> None:
    train, val = events
    weights = np.linspace(0.5, 1.5, len(train))
    config = loop_config(schedule="plateau")
    history = train_model(build("vae", 5, SMALL), train, val, config, weights=weights)
    assert [row["lr"] for row in history] == [1e-3] * 4
    with pytest.raises(HepgenError, match="weights"):
        train_model(build("vae", 5, SMALL), train, val, config, weights=weights[:-1])


def test_nan_input_is_refused(events) -> None:
    train, val = events
    bad = train.copy()
    bad[7, 2] = np.nan
    with pytest.raises(HepgenError, match=r"training set has 1 NaN/inf .* \[2\]"):
        train_model(build("vae", 5, SMALL), bad, val, loop_config())
    with pytest.raises(HepgenError, match="validation set must have shape"):
        train_model(build("vae", 5, SMALL), train, val[:0], loop_config())


def test_divergence_is_reported(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match=r"diverged at epoch \d+: .*loss = (nan|inf)"):
        train_model(build("vae", 5, SMALL), train * 1e3, val * 1e3, loop_config(lr=1e6, epochs=20))


def test_training_set_smaller_than_a_batch(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match="has 512 events.*batch_size = 1024"):
        train_model(build("vae", 5, SMALL), train, val, loop_config(batch_size=1024))


def test_cpu_training_is_bit_reproducible(events) -> None:
    train, val = events
    models = [build("bvae", 5, SMALL, seed=4) for _ in range(2)]
    histories = [train_model(m, train, val, loop_config(seed=8)) for m in models]
    assert [r["val_loss"] for r in histories[0]] == [r["val_loss"] for r in histories[1]]
    for (key, a), b in zip(
        models[0].state_dict().items(), models[1].state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key


_TRAIN_IN_A_CHILD = """
import sys, numpy as np, torch
from hepgen.models import build
from hepgen.training import TrainConfig, train_model
from hepgen.devices import retain_freed_memory
torch.set_num_threads(1)
train, val = np.load(sys.argv[1]), np.load(sys.argv[2])
config = TrainConfig(epochs=2, batch_size=64, device="cpu", seed=3, checkpoint_every=0)
model = build("avae", 5, {"latent": 3, "hidden": 16, "layers": 2}, seed=4)
train_model(model, train, val, config)
assert not retain_freed_memory()
torch.save(model.state_dict(), sys.argv[3])
"""


def test_results_do_not_depend_on_the_malloc_thresholds(events, tmp_path) -> None:
    """CPU training sets glibc's malloc thresholds for speed; with the defaults, same weights."""
    train, val = events
    paths = [tmp_path / name for name in ("train.npy", "val.npy", "state.pt")]
    np.save(paths[0], train)
    np.save(paths[1], val)
    env = {**os.environ, "GLIBC_TUNABLES": ""}  # glibc's defaults, and the loop keeps them
    cmd = [sys.executable, "-c", _TRAIN_IN_A_CHILD, *map(str, paths)]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    config = loop_config(epochs=2, select_by="metric", select_every=5)
    model = build("avae", 5, SMALL, seed=4)
    train_model(model, train, val, config)
    expected = torch.load(paths[2], weights_only=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_inputs_are_not_modified(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    before = train.copy()
    train_model(model, train, val, loop_config(epochs=1))
    np.testing.assert_array_equal(train, before)


@pytest.mark.parametrize("model_type", ["vae", "bvae", "flow", "bgmm"])
def test_negative_weights_are_refused_before_training(model_type: str, events) -> None:
    train, val = events
    weights = np.ones(len(train))
    weights[:7] = -0.5
    params = {"flow": {"hidden": 8}, "bgmm": {"components": 2}}.get(model_type, SMALL)
    model = build(model_type, 5, params)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(
        HepgenError, match=f"model type '{model_type}' cannot use negative event weights: 7 of 512"
    ):
        train_model(model, train, val, loop_config(), weights=weights)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_gan_trains_on_negative_weights(events) -> None:
    train, val = events
    weights = np.where(np.arange(len(train)) % 10 == 0, -0.2, 1.0)
    gan = build("gan", 5, {"latent": 2, "hidden": 16, "layers": 2})
    history = train_model(gan, train, val, loop_config(epochs=2), weights=weights)
    assert np.isfinite(history[-1]["d_loss"])


def test_exploding_discriminator_is_reported(events) -> None:
    train, val = events
    # an unpenalised Wasserstein critic with a huge step grows without bound
    gan = build("gan", 5, {"loss": "wgan-gp", "penalty": 0.0, "hidden": 16, "layers": 2})
    with pytest.raises(
        HepgenError, match=r"'gan' diverged at epoch \d+: d_loss = .*\|d_loss\| <= 10000"
    ):
        train_model(gan, train, val, loop_config(lr=10.0, epochs=30))
