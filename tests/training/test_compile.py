"""Tests for ``training.compile``: the compiled loss trains like the eager one, once compiled."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.training import TrainConfig, train_model

SMALL = {"latent": 3, "hidden": 16, "layers": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(700, 5)) @ rng.normal(size=(5, 5))
    x = x.astype(np.float32)
    return x[:600], x[600:]


def _config(**changes) -> TrainConfig:
    base = {"epochs": 3, "batch_size": 128, "device": "cpu", "seed": 1, "select_by": "val_loss"}
    return TrainConfig(**{**base, "checkpoint_every": 0, **changes})


def _losses(history: list[dict[str, float]]) -> np.ndarray:
    return np.array([[row["loss"], row["val_loss"]] for row in history])


@pytest.mark.parametrize("model_type", ["avae", "flow"])
def test_compiled_training_matches_eager_and_compiles_once(model_type, events):
    train, val = events  # 600 events: 4 batches of 128 and a last one of 88, run eagerly
    params = SMALL if model_type == "avae" else {"transforms": 2, "hidden": 16, "bins": 4}
    eager = train_model(build(model_type, 5, params, seed=0), train, val, _config())
    torch._dynamo.reset()
    with torch._dynamo.config.patch(error_on_recompile=True):
        model = build(model_type, 5, params, seed=0)
        compiled = train_model(model, train, val, _config(compile=True))
        again = train_model(build(model_type, 5, params, seed=0), train, val, _config(compile=True))
    # the same function: float32 rounding in another order, over 15 steps
    np.testing.assert_allclose(_losses(compiled), _losses(eager), rtol=1e-4)
    np.testing.assert_array_equal(_losses(again), _losses(compiled))  # reproducible
    assert len(model.state_dict()) == len(build(model_type, 5, params).state_dict())


def test_model_with_its_own_step_trains_eagerly_and_says_so(events, caplog):
    train, val = events
    with caplog.at_level(logging.WARNING, logger="hepgen.training.run"):
        history = train_model(
            build("gan", 5, {"hidden": 16, "layers": 2}),
            train,
            val,
            _config(epochs=1, compile=True),
        )
    assert len(history) == 1
    assert "'gan' has its own training step; it runs eagerly" in caplog.text


def test_compiler_failure_is_one_clear_error(events):
    train, val = events
    torch._dynamo.reset()
    no_compiler = {"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False}
    with (
        torch._inductor.config.patch(no_compiler),
        pytest.raises(HepgenError, match="training.compile: torch.compile could not compile"),
    ):
        train_model(build("vae", 5, SMALL), train, val, _config(epochs=1, compile=True))
