"""Tests of best-epoch selection: the criterion, the sampled distance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance
from small_models import SMALL, correlated_events, loop_config

from hepgen.models import build
from hepgen.seeds import derive_seed
from hepgen.training import train_model
from hepgen.training.epoch import validation_losses
from hepgen.training.selection import mean_w1, sample_distance

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    return correlated_events()


def test_selection_criterion_is_swappable(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    config = loop_config(epochs=4)
    history = train_model(model, train, val, config, criterion=lambda model, row: row["epoch"])
    parts = validation_losses(
        model, torch.as_tensor(val), batch_size=64, seed=derive_seed(config.seed, "validation")
    )
    assert parts["loss"] == pytest.approx(history[0]["val_loss"], rel=1e-6)
    assert history[0]["val_loss"] > history[-1]["val_loss"]


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
    config = loop_config(epochs=6, select_by="metric", select_every=2)
    history = train_model(model, train, val, config)
    scored = [row["metric"] for row in history if not np.isnan(row["metric"])]
    assert len(scored) == 3  # epochs 2, 4, 6
    x, v = torch.as_tensor(train), torch.as_tensor(val)
    again = sample_distance(model, x, v, seed=derive_seed(config.seed, "selection"))
    assert again == pytest.approx(min(scored), rel=1e-6)
