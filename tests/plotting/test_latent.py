"""Tests of the latent-space figure of encoder models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hepgen.errors import HepgenError
from hepgen.models import REGISTRY, build
from hepgen.plotting.latent import (
    LATENT_TYPES,
    MARGINALS,
    LatentPoints,
    has_latent_space,
    latent_points,
    plot_latent,
)


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
    figure = plot_latent(points, path=path, title="dy_mumu: vae")
    assert len(figure.axes) > 0
    with Image.open(path) as image:
        assert image.format == "PNG"


def _points(dims: int, n: int = 400) -> LatentPoints:
    rng = np.random.default_rng(dims)
    spread = np.linspace(2.0, 0.1, dims)  # dimension 0 spreads widest
    mu = rng.normal(size=(n, dims)) * spread
    sigma = np.full((n, dims), 0.3)
    return LatentPoints(mu, sigma, rng.normal(size=(n, dims)), "prior N(0, 1)")


def test_figure_shows_projections_spread_and_marginals(tmp_path: Path, panels, legends) -> None:
    figure = plot_latent(_points(3), path=tmp_path / "latent.png", title="dy_mumu: vae")
    shown = panels(figure)
    pca, spread, marginals = shown[:2], shown[2], shown[3:]
    assert [ax.get_title().split("\n")[0] for ax in pca] == [
        "encoded test events (μ)",
        "sampled (prior N(0, 1))",
    ]
    assert all(ax.get_xlabel().startswith("PC 1 (") for ax in pca)
    assert all(ax.get_ylabel().startswith("PC 2 (") for ax in pca)
    for ax in pca:  # 2-d histograms holding nearly every point
        assert 0.9 * 400 < ax.collections[0].get_array().sum() <= 400
    assert spread.get_xlabel() == "latent dimension"
    assert [p.get_height() for p in spread.patches[:3]] == pytest.approx(_points(3).mu.std(axis=0))
    # one marginal per dimension, widest spread first
    assert [ax.get_xlabel() for ax in marginals] == ["$z_{0}$", "$z_{1}$", "$z_{2}$"]
    assert {ax.get_ylabel() for ax in marginals} == {"density"}
    # a legend on the spread panel and on the first marginal
    assert [set(entries) for entries in legends(figure)] == [
        {"spread of μ", "mean σ", "prior"},
        {"encoded μ", "sampled", "N(0, 1)"},
    ]
    assert spread.get_legend() is not None and marginals[0].get_legend() is not None
    colorbars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert [ax.get_ylabel() for ax in colorbars] == ["events per bin", "events per bin"]
    assert figure.get_suptitle().startswith(
        "dy_mumu: vae: latent space (3 dimensions, 400 test events encoded; sampled: prior"
    )


@pytest.mark.parametrize(("dims", "marginals"), [(1, 1), (12, MARGINALS)])
def test_marginals_of_the_widest_dimensions_only(
    tmp_path: Path, panels, dims: int, marginals: int
) -> None:
    figure = plot_latent(_points(dims), path=tmp_path / "latent.png", title="t")
    shown = panels(figure)
    pca = 2 if dims >= 2 else 0  # one dimension has no projection
    assert len(shown) == pca + 1 + marginals
    expected = [f"$z_{{{d}}}$" for d in range(marginals)]
    assert [ax.get_xlabel() for ax in shown[pca + 1 :]] == expected


def test_a_model_without_encoder_is_named() -> None:
    with pytest.raises(HepgenError, match="model type 'flow' has no encoder"):
        latent_points(
            torch.nn.Linear(2, 2), np.zeros((3, 2), np.float32), seed=0, model_type="flow"
        )
