"""Tests for the model registry and the contract every registered generator fulfils."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from torch import nn

from hepgen.checkpoint import load_checkpoint, save_checkpoint
from hepgen.errors import HepgenError
from hepgen.models import REGISTRY, EventGenerator, available, build, params_dict, validate
from hepgen.models.step import StepContext
from hepgen.training import TrainConfig, TrainingInterrupted, train_model

VAE_SMALL = {"latent": 3, "hidden": 16, "layers": 2}
D_SMALL = {"d_hidden": 16, "d_layers": 2}
NF_SMALL = {"flow_transforms": 1, "flow_hidden": 16, "flow_layers": 1, "flow_bins": 4}
SMALL = {
    "vae": VAE_SMALL,
    "bvae": VAE_SMALL,
    "avae": VAE_SMALL,
    "vae_bgmm": {**VAE_SMALL, "components": 3, "max_iter": 20},
    "avae_bgmm": {**VAE_SMALL, "components": 3, "max_iter": 20},
    "bgmm": {"components": 3, "max_iter": 20},
    "gan": {"latent": 3, "hidden": 16, "layers": 2},
    "flow": {"transforms": 2, "hidden": 16, "layers": 1, "bins": 4},
    "cfm": {"hidden": 16, "layers": 2, "frequencies": 2, "steps": 4},
    "vae_d": {**VAE_SMALL, **D_SMALL},
    "vae_nf": {**VAE_SMALL, **NF_SMALL},
    "vae_nf_d": {**VAE_SMALL, **NF_SMALL, **D_SMALL},
    "copula_vae": {**VAE_SMALL, "knots": 32},
    "copula_vae_d": {**VAE_SMALL, "knots": 32, **D_SMALL},
}
CONFIG = TrainConfig(
    epochs=3, batch_size=64, lr=1e-3, device="cpu", seed=5, select_every=1, checkpoint_every=0
)


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    cov = 0.5 * np.eye(6) + 0.5
    x = rng.multivariate_normal(np.arange(6.0) / 6.0, cov, size=640)
    x[:, 0] = np.log(rng.exponential(30.0, size=640)) - 3.0  # a skewed, pT-like feature
    x = x.astype(np.float32)
    return x[:512], x[512:]


def test_every_type_is_exercised() -> None:
    assert set(SMALL) == set(REGISTRY)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("model_type", available())
def test_one_step_reaches_every_parameter(model_type: str, events) -> None:
    model = build(model_type, 6, SMALL[model_type], seed=3)
    assert isinstance(model, EventGenerator)
    if not model.iterative:
        assert not list(model.parameters())  # fitted in closed form, nothing to differentiate
        return
    before = _snapshot(model)
    ctx = StepContext("cpu", None, None, torch.Generator().manual_seed(0))
    parts = model.train_step(
        torch.as_tensor(events[0][:64]),
        None,
        model.optimizers(lr=CONFIG.lr, weight_decay=CONFIG.weight_decay),
        ctx,
    )
    assert "loss" in parts and all(torch.isfinite(v) for v in parts.values())
    # Adam moves every parameter tensor that received a non-zero gradient
    unchanged = [n for n, p in model.named_parameters() if torch.equal(p, before[n])]
    assert not unchanged


@pytest.mark.parametrize("model_type", available())
def test_fit_sample_save_load(model_type: str, events, tmp_path) -> None:
    train, val = events
    params = SMALL[model_type]
    model = build(model_type, 6, params, seed=3)
    history = train_model(model, train, val, CONFIG)
    assert [row["epoch"] for row in history] == ([1, 2, 3] if model.iterative else [1])
    assert all(np.isfinite(row["val_loss"]) and row["metric"] >= 0 for row in history)

    samples = model.sample(200, torch.Generator().manual_seed(9))
    assert samples.shape == (200, 6)
    assert samples.dtype == torch.float32
    assert torch.isfinite(samples).all()

    path = tmp_path / "model.pt"
    names = [f"f{i}" for i in range(6)]
    info = {"training": {"epochs": 3}, "history": history, "extra": {}}
    save_checkpoint(path, model, type=model_type, params=params, features=names, **info)
    loaded, meta = load_checkpoint(path)
    assert type(loaded) is type(model)
    assert meta["params"] == params_dict(model)
    again = loaded.sample(200, torch.Generator().manual_seed(9))
    torch.testing.assert_close(again, samples, rtol=0, atol=0)


def _latest(model, row) -> float:
    """Keep the last epoch, so that the compared weights are those trained after the resume."""
    return -row["epoch"]


def _terminate_at(epoch: int, step: int):
    def callback(e: int, s: int) -> None:
        if (e, s) == (epoch, step):
            os.kill(os.getpid(), signal.SIGTERM)

    return callback


@pytest.mark.parametrize("model_type", available())
def test_resume_equals_uninterrupted(model_type: str, events, tmp_path) -> None:
    train, val = events
    params = SMALL[model_type]
    whole = build(model_type, 6, params, seed=3)
    expected = train_model(whole, train, val, CONFIG, criterion=_latest)
    state = tmp_path / "last.ckpt"
    if whole.iterative:
        with pytest.raises(TrainingInterrupted, match=r"SIGTERM in epoch 2 .*last\.ckpt"):
            train_model(
                build(model_type, 6, params, seed=3),
                train,
                val,
                CONFIG,
                criterion=_latest,
                state_path=state,
                callback=_terminate_at(2, 3),
            )
        saved = torch.load(state, weights_only=True)  # plain tensors and values only
        assert saved["progress"]["epoch"] == 1 and saved["progress"]["cursor"]["next"] == 4 * 64
    resumed = build(model_type, 6, params, seed=3)
    history = train_model(resumed, train, val, CONFIG, criterion=_latest, state_path=state)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in history] == [
        {k: v for k, v in r.items() if k not in drop} for r in expected
    ]
    for key, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


@pytest.mark.parametrize("model_type", available())
def test_same_seed_same_weights(model_type: str, events) -> None:
    train, val = events
    config = TrainConfig(epochs=2, batch_size=128, device="cpu", seed=11, select_every=2)
    states = []
    for build_seed, train_seed in [(1, 11), (1, 11), (2, 12)]:
        model = build(model_type, 6, SMALL[model_type], seed=build_seed)
        train_model(model, train, val, TrainConfig(**{**config.__dict__, "seed": train_seed}))
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])


def test_registry_lists_paper_models() -> None:
    assert {"vae", "bvae", "gan", "flow", "bgmm", "vae_d", "vae_nf", "copula_vae"} <= set(REGISTRY)
    assert available() == sorted(REGISTRY)


def test_defaults_are_the_paper_setting() -> None:
    paper = {"latent": 20, "hidden": 128, "layers": 4, "beta": 1e-6, "alpha": 1.0, "gamma": 0.05}
    assert params_dict(build("bvae", 4)) == paper
    wgan = build("gan", 4, {"loss": "wgan-gp", "penalty": 10.0, "d_steps": 5, "beta1": 0.0})
    assert params_dict(wgan)["loss"] == "wgan-gp"


@pytest.mark.parametrize(
    ("model_type", "params", "needle"),
    [
        ("gan9", {}, "unknown model type 'gan9'"),
        ("vae", {"alpha": 1.0}, "'alpha'"),
        ("vae", {"latnt": 4}, "'latnt'"),
        ("bvae", {"latent": 0}, "'latent'"),
        ("bvae", {"latent": -3}, "'latent'"),
        ("gan", {"latent": 0}, "'latent'"),
        ("vae_nf", {"latent": 0}, "'latent'"),
        ("vae", {"latent": 2.5}, "'latent'"),
        ("vae", {"hidden": True}, "'hidden'"),
        ("vae", {"beta": 1.5}, "'beta'"),
        ("bvae", {"gamma": -0.1}, "'gamma'"),
        ("bvae", {"alpha": "one"}, "'alpha'"),
        ("gan", {"loss": "hinge"}, "'loss'"),
        ("flow", {"bins": 1}, "'bins'"),
        ("bgmm", {"components": 0}, "'components'"),
        ("vae_d", {"penalty": -1.0}, "'penalty'"),
        ("vae", [("latent", 3)], "mapping"),
    ],
)
def test_validate_rejects(model_type: str, params, needle: str) -> None:
    with pytest.raises(HepgenError, match=needle) as err:
        validate(model_type, params)
    if model_type in REGISTRY:
        assert f"model type {model_type!r}" in str(err.value)
    else:
        assert "'bvae'" in str(err.value) and "'flow'" in str(err.value)


def test_validate_accepts_config_values() -> None:
    validate("bvae", {"latent": 20, "hidden": 128, "layers": 4, "beta": 1, "gamma": 0})
    validate("vae", None)


def test_build_rejects_bad_features() -> None:
    with pytest.raises(HepgenError, match="features"):
        build("vae", 0, SMALL["vae"])
