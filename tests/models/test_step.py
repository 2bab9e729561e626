"""Tests of the optimiser step the models take (hepgen.models.step)."""

from __future__ import annotations

import pytest
import torch

from hepgen.models.step import FlatAdam, StepContext, adam

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
