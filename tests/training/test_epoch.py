"""Tests of one epoch and the validation pass: weighted losses, the step the loop takes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from small_models import SMALL, correlated_events

from hepgen.models import build
from hepgen.models.step import StepContext
from hepgen.training.epoch import validation_losses

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    return correlated_events()


def test_weights_change_the_loss(events) -> None:
    train, val = events
    model = build("vae", 5, SMALL)
    x = torch.as_tensor(val)
    far = (x - x.mean(0)).pow(2).sum(1)
    plain = validation_losses(model, x, batch_size=64, seed=0)["mse"]
    tilted = validation_losses(model, x, batch_size=64, seed=0, weights=far / far.mean())["mse"]
    assert tilted > plain  # outlying events reconstruct worse and weigh more


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
