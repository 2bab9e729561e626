"""Tests for the shared training loop: options, guards, determinism, selection, resume."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from hepgen.models import build
from hepgen.models.step import FlatAdam, StepContext, adam
from hepgen.runtime import HepgenError
from hepgen.training import TrainConfig, TrainingInterrupted, state_path_for, train_model
from hepgen.training.epoch import validation_losses
from hepgen.training.selection import mean_w1, sample_distance

SMALL = {"latent": 3, "hidden": 16, "layers": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(640, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)
    x = x.astype(np.float32)
    return x[:512], x[512:]


def _config(**changes) -> TrainConfig:
    base = {"epochs": 4, "batch_size": 64, "device": "cpu", "seed": 3, "select_by": "val_loss"}
    return TrainConfig(**{**base, "checkpoint_every": 0, **changes})


def test_history_rows(events) -> None:
    train, val = events
    history = train_model(build("vae", 5, SMALL), train, val, _config(epochs=5))
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
    config = _config(epochs=6)
    history = train_model(model, train, val, config)
    parts = validation_losses(model, torch.as_tensor(val), batch_size=64, seed=config.seed + 2)
    assert parts["loss"] == pytest.approx(min(row["val_loss"] for row in history), rel=1e-6)


def test_selection_criterion_is_swappable(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    config = _config(epochs=4)
    history = train_model(model, train, val, config, criterion=lambda model, row: row["epoch"])
    parts = validation_losses(model, torch.as_tensor(val), batch_size=64, seed=config.seed + 2)
    assert parts["loss"] == pytest.approx(history[0]["val_loss"], rel=1e-6)
    assert history[0]["val_loss"] > history[-1]["val_loss"]


def test_early_stopping(events) -> None:
    train, val = events
    # an lr far below float32 resolution leaves the weights and the validation loss unchanged
    history = train_model(
        build("vae", 5, SMALL), train, val, _config(epochs=50, lr=1e-20, patience=3)
    )
    assert len(history) == 4


def test_plateau_schedule_and_weights(events) -> None:
    train, val = events
    weights = np.linspace(0.5, 1.5, len(train))
    config = _config(schedule="plateau")
    history = train_model(build("vae", 5, SMALL), train, val, config, weights=weights)
    assert [row["lr"] for row in history] == [1e-3] * 4
    with pytest.raises(HepgenError, match="weights"):
        train_model(build("vae", 5, SMALL), train, val, config, weights=weights[:-1])


def test_weights_change_the_loss(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    x = torch.as_tensor(val)
    far = (x - x.mean(0)).pow(2).sum(1)
    plain = validation_losses(model, x, batch_size=64, seed=0)["mse"]
    tilted = validation_losses(model, x, batch_size=64, seed=0, weights=far / far.mean())["mse"]
    assert tilted > plain  # outlying events reconstruct worse and weigh more


def test_nan_input_is_refused(events) -> None:
    train, val = events
    bad = train.copy()
    bad[7, 2] = np.nan
    with pytest.raises(HepgenError, match=r"training set has 1 NaN/inf .* \[2\]"):
        train_model(build("vae", 5, SMALL), bad, val, _config())
    with pytest.raises(HepgenError, match="validation set must have shape"):
        train_model(build("vae", 5, SMALL), train, val[:0], _config())


def test_divergence_is_reported(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match=r"diverged at epoch \d+: .*loss = (nan|inf)"):
        train_model(build("vae", 5, SMALL), train * 1e3, val * 1e3, _config(lr=1e6, epochs=20))


def test_training_set_smaller_than_a_batch(events) -> None:
    train, val = events
    with pytest.raises(HepgenError, match="has 512 events.*batch_size = 1024"):
        train_model(build("vae", 5, SMALL), train, val, _config(batch_size=1024))


def test_cpu_training_is_bit_reproducible(events) -> None:
    train, val = events
    models = [build("bvae", 5, SMALL, seed=4) for _ in range(2)]
    histories = [train_model(m, train, val, _config(seed=8)) for m in models]
    assert [r["val_loss"] for r in histories[0]] == [r["val_loss"] for r in histories[1]]
    for (key, a), b in zip(
        models[0].state_dict().items(), models[1].state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key


def test_loop_step_equals_a_plain_backward_step(events) -> None:
    """The shared loop's update is the textbook zero_grad/backward/Adam step, bit for bit."""
    x = torch.as_tensor(events[0][:64])
    ours, plain = (build("avae", 5, SMALL, seed=1) for _ in range(2))
    optimizers, (adam,) = (
        ours.optimizers(lr=1e-3, weight_decay=0.0),
        plain.optimizers(lr=1e-3, weight_decay=0.0).values(),
    )
    noise, reference_noise = (torch.Generator().manual_seed(0) for _ in range(2))
    ctx = StepContext("cpu", None, None, noise)
    for _ in range(3):
        parts = ours.train_step(x, None, optimizers, ctx)
        adam.zero_grad()
        expected = plain.loss(x, generator=reference_noise)
        expected["loss"].backward()
        adam.step()
        assert parts["loss"].item() == expected["loss"].item()
    for (key, a), b in zip(ours.state_dict().items(), plain.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_flat_adam_updates_like_adam_over_separate_tensors() -> None:
    """One tensor for all parameters: the same elementwise update, the module unchanged."""
    ours, theirs = (torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)) for _ in "ab")
    theirs.load_state_dict(ours.state_dict())
    flat = adam(ours.parameters(), lr=0.01, weight_decay=0.1)
    separate = torch.optim.Adam(theirs.parameters(), lr=0.01, weight_decay=0.1, fused=True)
    assert isinstance(flat, FlatAdam) and len(flat.param_groups[0]["params"]) == 1
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    ctx = StepContext("cpu", None, None, torch.Generator())
    for step in range(4):
        if step % 2:  # the loop's update, and a plain zero_grad/backward/step
            ctx.update((ours(x).pow(2).sum(), flat), norms=False)
        else:
            flat.zero_grad()
            ours(x).pow(2).sum().backward()
            flat.step()
        separate.zero_grad()
        theirs(x).pow(2).sum().backward()
        separate.step()
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert a.shape == b.shape and torch.equal(a, b), key


def test_update_returns_gradient_norms_only_when_asked() -> None:
    layer = torch.nn.Linear(3, 2)
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    grads = torch.autograd.grad(layer(x).pow(2).sum(), list(layer.parameters()))
    expected = torch.cat([g.flatten() for g in grads]).norm()
    still = torch.optim.SGD(layer.parameters(), lr=0.0)
    ctx = StepContext("cpu", None, None, torch.Generator())
    (norm,) = ctx.update((layer(x).pow(2).sum(), still))
    torch.testing.assert_close(norm, expected)
    assert ctx.update((layer(x).pow(2).sum(), still), norms=False) == []


_TRAIN_IN_A_CHILD = """
import sys, numpy as np, torch
from hepgen.models import build
from hepgen.training import TrainConfig, train_model
from hepgen.runtime import retain_freed_memory
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
    config = _config(epochs=2, select_by="metric", select_every=5)
    model = build("avae", 5, SMALL, seed=4)
    train_model(model, train, val, config)
    expected = torch.load(paths[2], weights_only=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


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


def test_mean_w1_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 3)), rng.normal(0.5, 2.0, size=(200, 3))
    wa, wb = rng.uniform(0.1, 2.0, 300), rng.uniform(0.1, 2.0, 200)
    for weights in [(None, None), (wa, wb)]:
        expected = np.mean([wasserstein_distance(a[:, j], b[:, j], *weights) for j in range(3)])
        assert mean_w1(a, b, *weights) == pytest.approx(expected, rel=1e-10)
    # a negative weight cancels an event: {0, 1, 1} with weights {1, 1, -1} is a point at 0
    point = np.zeros((5, 1))
    cancelled = mean_w1(np.array([[0.0], [1.0], [1.0]]), point, np.array([1.0, 1, -1]))
    assert cancelled == pytest.approx(0.0, abs=1e-12)
    assert mean_w1(point + 2.0, point) == pytest.approx(2.0)


def test_metric_selection_keeps_the_closest_sampled_epoch(events) -> None:
    train, val = events
    model = build("bvae", 5, SMALL)
    config = _config(epochs=6, select_by="metric", select_every=2)
    history = train_model(model, train, val, config)
    scored = [row["metric"] for row in history if not np.isnan(row["metric"])]
    assert len(scored) == 3  # epochs 2, 4, 6
    x, v = torch.as_tensor(train), torch.as_tensor(val)
    again = sample_distance(model, x, v, seed=config.seed + 3)
    assert again == pytest.approx(min(scored), rel=1e-6)


def test_patience_must_cover_the_selection_interval() -> None:
    with pytest.raises(
        HepgenError, match="'patience' \\(3\\) must be 0 or at least 'select_every' \\(5\\)"
    ):
        TrainConfig(patience=3, select_every=5)
    TrainConfig(patience=3, select_every=5, select_by="val_loss")


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
        train_model(model, train, val, _config(), weights=weights)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_gan_trains_on_negative_weights(events) -> None:
    train, val = events
    weights = np.where(np.arange(len(train)) % 10 == 0, -0.2, 1.0)
    gan = build("gan", 5, {"latent": 2, "hidden": 16, "layers": 2})
    history = train_model(gan, train, val, _config(epochs=2), weights=weights)
    assert np.isfinite(history[-1]["d_loss"])


def test_exploding_discriminator_is_reported(events) -> None:
    train, val = events
    # an unpenalised Wasserstein critic with a huge step grows without bound
    gan = build("gan", 5, {"loss": "wgan-gp", "penalty": 0.0, "hidden": 16, "layers": 2})
    with pytest.raises(
        HepgenError, match=r"'gan' diverged at epoch \d+: d_loss = .*\|d_loss\| <= 10000"
    ):
        train_model(gan, train, val, _config(lr=10.0, epochs=30))


def _stop_at(epoch: int, step: int, sig: signal.Signals = signal.SIGTERM):
    def callback(e: int, s: int) -> None:
        if (e, s) == (epoch, step):
            os.kill(os.getpid(), sig)

    return callback


def test_sigint_saves_and_the_best_epoch_survives_the_resume(events, tmp_path) -> None:
    train, val = events
    config = _config(epochs=4, select_by="metric", select_every=1)
    whole = build("bvae", 5, SMALL, seed=2)
    expected = train_model(whole, train, val, config)
    path = state_path_for(tmp_path / "models" / "bvae" / "model.pt")
    assert path == tmp_path / "models" / "bvae" / "last.ckpt"
    with pytest.raises(TrainingInterrupted, match="SIGINT in epoch 3"):
        train_model(
            build("bvae", 5, SMALL, seed=2),
            train,
            val,
            config,
            state_path=path,
            callback=_stop_at(3, 7, signal.SIGINT),
        )
    saved = torch.load(path, weights_only=True)
    assert saved["progress"]["epoch"] == 3 and saved["progress"]["cursor"] is None  # epoch end
    resumed = build("bvae", 5, SMALL, seed=2)
    history = train_model(resumed, train, val, config, state_path=path)
    assert [r["metric"] for r in history] == [r["metric"] for r in expected]
    for key, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_periodic_state_and_a_changed_config_starts_fresh(events, tmp_path, caplog) -> None:
    train, val = events
    path = tmp_path / "last.ckpt"
    train_model(
        build("vae", 5, SMALL), train, val, _config(epochs=2, checkpoint_every=2), state_path=path
    )
    assert torch.load(path, weights_only=True)["progress"]["epoch"] == 2
    other = _config(epochs=3, lr=2e-3)
    with caplog.at_level(logging.WARNING, logger="hepgen.training.state"):
        history = train_model(build("vae", 5, SMALL), train, val, other, state_path=path)
    assert "belongs to another run" in caplog.text
    fresh = train_model(build("vae", 5, SMALL), train, val, other)
    assert [r["loss"] for r in history] == [r["loss"] for r in fresh]


def test_interrupt_without_a_state_file_says_so(events) -> None:
    train, val = events
    with pytest.raises(TrainingInterrupted, match="nothing was saved"):
        train_model(build("vae", 5, SMALL), train, val, _config(), callback=_stop_at(1, 0))
