"""Tests for the model registry and the contract every registered generator fulfils."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.checkpoint import load_checkpoint, save_checkpoint
from hepgen.models import REGISTRY, EventGenerator, available, build, params_dict, validate
from hepgen.runtime import HepgenError
from hepgen.training import TrainConfig

SMALL = {"latent": 3, "hidden": 16, "layers": 2}
CONFIG = TrainConfig(epochs=3, batch_size=64, lr=1e-3, device="cpu", seed=5)


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    cov = 0.5 * np.eye(6) + 0.5
    x = rng.multivariate_normal(np.arange(6.0), cov, size=640)
    x[:, 0] = np.log(rng.exponential(30.0, size=640))  # a skewed, pT-like feature
    x = x.astype(np.float32)
    return x[:512], x[512:]


@pytest.mark.parametrize("model_type", available())
def test_generator_contract(model_type: str, events, tmp_path) -> None:
    train, val = events
    model = build(model_type, 6, SMALL, seed=3)
    assert isinstance(model, EventGenerator)

    # one backward pass reaches every parameter
    x = torch.as_tensor(train[:64])
    parts = model.loss(x, generator=torch.Generator().manual_seed(0))
    assert set(parts) >= {"loss", "mse", "kl"}
    parts["loss"].backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name
    model.zero_grad()

    history = model.fit(train, val, CONFIG)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert all(np.isfinite(row["val_loss"]) for row in history)
    assert history[-1]["mse"] < history[0]["mse"]

    samples = model.sample(200, torch.Generator().manual_seed(9))
    assert samples.shape == (200, 6)
    assert samples.dtype == torch.float32
    assert torch.isfinite(samples).all()

    path = tmp_path / "model.pt"
    names = [f"f{i}" for i in range(6)]
    info = {"training": {"epochs": 3}, "history": history, "extra": {}}
    save_checkpoint(path, model, type=model_type, params=SMALL, features=names, **info)
    loaded, meta = load_checkpoint(path)
    assert type(loaded) is type(model)
    assert meta["params"] == params_dict(model)
    again = loaded.sample(200, torch.Generator().manual_seed(9))
    torch.testing.assert_close(again, samples, rtol=0, atol=0)


@pytest.mark.parametrize("model_type", available())
def test_same_seed_same_weights(model_type: str, events) -> None:
    train, val = events
    config = TrainConfig(epochs=2, batch_size=128, device="cpu", seed=11)
    states = []
    for build_seed, train_seed in [(1, 11), (1, 11), (2, 11)]:
        model = build(model_type, 6, SMALL, seed=build_seed)
        model.fit(train, val, TrainConfig(**{**config.__dict__, "seed": train_seed}))
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])


def test_registry_lists_paper_models() -> None:
    assert {"vae", "bvae"} <= set(REGISTRY)
    assert available() == sorted(REGISTRY)


def test_defaults_are_the_paper_setting() -> None:
    paper = {"latent": 20, "hidden": 128, "layers": 4, "beta": 1e-6, "alpha": 1.0, "gamma": 0.05}
    assert params_dict(build("bvae", 4)) == paper


@pytest.mark.parametrize(
    ("model_type", "params", "needle"),
    [
        ("gan9", {}, "unknown model type 'gan9'"),
        ("vae", {"alpha": 1.0}, "'alpha'"),
        ("vae", {"latnt": 4}, "'latnt'"),
        ("bvae", {"latent": 0}, "'latent'"),
        ("bvae", {"latent": -3}, "'latent'"),
        ("vae", {"latent": 2.5}, "'latent'"),
        ("vae", {"hidden": True}, "'hidden'"),
        ("vae", {"beta": 1.5}, "'beta'"),
        ("bvae", {"gamma": -0.1}, "'gamma'"),
        ("bvae", {"alpha": "one"}, "'alpha'"),
        ("vae", [("latent", 3)], "mapping"),
    ],
)
def test_validate_rejects(model_type: str, params, needle: str) -> None:
    with pytest.raises(HepgenError, match=needle) as err:
        validate(model_type, params)
    if model_type in REGISTRY:
        assert f"model type {model_type!r}" in str(err.value)
    else:
        assert "'bvae'" in str(err.value) and "'vae'" in str(err.value)


def test_validate_accepts_config_values() -> None:
    validate("bvae", {"latent": 20, "hidden": 128, "layers": 4, "beta": 1, "gamma": 0})
    validate("vae", None)


def test_build_rejects_bad_features() -> None:
    with pytest.raises(HepgenError, match="features"):
        build("vae", 0, SMALL)
