"""Tests of the latent-space figure of encoder models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hepgen.models import REGISTRY, build
from hepgen.plotting.latent import LATENT_TYPES, has_latent_space, latent_points, plot_latent
from hepgen.runtime import HepgenError


def test_every_registered_encoder_type_is_listed() -> None:
    for name, cls in REGISTRY.items():
        assert has_latent_space(name) == callable(getattr(cls, "encode", None)), name
    assert {"vae", "bvae"} <= LATENT_TYPES
    assert not has_latent_space("flow") and has_latent_space("my_vae")


def test_latent_points_and_figure(tmp_path: Path) -> None:
    model = build("vae", 4, {"latent": 3, "hidden": 16, "layers": 2}, seed=0)
    x = np.random.default_rng(0).normal(size=(500, 4)).astype(np.float32)
    points = latent_points(model, x, seed=1, model_type="vae")
    assert points.mu.shape == points.sigma.shape == points.sampled.shape == (500, 3)
    with torch.no_grad():
        mu, logvar = model.encode(torch.as_tensor(x))
    np.testing.assert_allclose(points.mu, mu.numpy(), rtol=1e-6)
    np.testing.assert_allclose(points.sigma, np.exp(0.5 * logvar.numpy()), rtol=1e-6)
    # The naive VAE samples its N(0, 1) prior: unit spread whatever the encoder does.
    assert points.sampled.std(axis=0) == pytest.approx(np.ones(3), abs=0.1)
    again = latent_points(model, x, seed=1, model_type="vae")
    np.testing.assert_array_equal(again.sampled, points.sampled)
    path = tmp_path / "latent.png"
    plot_latent(points, path=path, title="dy_mumu: vae")
    with Image.open(path) as image:
        assert np.asarray(image.convert("L")).std() > 10


def test_a_model_without_encoder_is_named() -> None:
    with pytest.raises(HepgenError, match="model type 'flow' has no encoder"):
        latent_points(
            torch.nn.Linear(2, 2), np.zeros((3, 2), np.float32), seed=0, model_type="flow"
        )
