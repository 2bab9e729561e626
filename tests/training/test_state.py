"""Tests of the resumable training state: SIGINT/SIGTERM, periodic saves, fresh starts."""

from __future__ import annotations

import logging
import os
import signal

import numpy as np
import pytest
import torch
from small_models import SMALL, correlated_events, loop_config

from hepgen.models import build
from hepgen.training import TrainingInterrupted, state_path_for, train_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    return correlated_events()


def _stop_at(epoch: int, step: int, sig: signal.Signals = signal.SIGTERM):
    def callback(e: int, s: int) -> None:
        if (e, s) == (epoch, step):
            os.kill(os.getpid(), sig)

    return callback


def test_sigint_saves_and_the_best_epoch_survives_the_resume(events, tmp_path) -> None:
    train, val = events
    config = loop_config(epochs=4, select_by="metric", select_every=1)
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
        build("vae", 5, SMALL),
        train,
        val,
        loop_config(epochs=2, checkpoint_every=2),
        state_path=path,
    )
    assert torch.load(path, weights_only=True)["progress"]["epoch"] == 2
    other = loop_config(epochs=3, lr=2e-3)
    with caplog.at_level(logging.WARNING, logger="hepgen.training.state"):
        history = train_model(build("vae", 5, SMALL), train, val, other, state_path=path)
    assert "belongs to another run" in caplog.text
    fresh = train_model(build("vae", 5, SMALL), train, val, other)
    assert [r["loss"] for r in history] == [r["loss"] for r in fresh]


def test_interrupt_without_a_state_file_says_so(events) -> None:
    train, val = events
    with pytest.raises(TrainingInterrupted, match="nothing was saved"):
        train_model(build("vae", 5, SMALL), train, val, loop_config(), callback=_stop_at(1, 0))
