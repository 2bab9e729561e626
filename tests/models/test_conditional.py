"""Conditional generators: shapes, the condition checks, and that p(x | c) is learned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgen.checkpoint import load_checkpoint, save_checkpoint
from hepgen.errors import HepgenError
from hepgen.models import CONDITIONAL_TYPES, available, build, check_condition
from hepgen.models.base import sample_given

SMALL = {
    "flow": {"transforms": 2, "hidden": 32, "layers": 2, "bins": 8},
    "cfm": {"hidden": 64, "layers": 3, "steps": 8},
    "vae": {"latent": 2, "hidden": 32, "layers": 2, "beta": 0.1},
    "avae": {"latent": 2, "hidden": 32, "layers": 2},
}


def test_small_covers_every_conditional_type():
    assert set(SMALL) == CONDITIONAL_TYPES


@pytest.mark.parametrize("kind", sorted(CONDITIONAL_TYPES))
def test_shapes_and_given_conditions_pass_through(kind):
    """d = 5 inputs, the last 2 conditions: the loss is finite, a draw returns the given rows."""
    model = build(kind, 5, SMALL[kind], seed=1, conditions=2)
    assert (model.generated, model.conditions) == (3, 2)
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    parts = model.loss(x, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(parts["loss"])
    parts["loss"].backward()
    model.eval()
    condition = x[:10, 3:]
    drawn = model.sample(10, torch.Generator().manual_seed(2), condition=condition)
    assert drawn.shape == (10, 5)
    assert torch.equal(drawn[:, 3:], condition)
    with pytest.raises(HepgenError, match=r"conditions must have shape \(10, 2\)"):
        model.sample(10, torch.Generator(), condition=x[:10, 2:])


@pytest.mark.parametrize("kind", sorted(CONDITIONAL_TYPES))
def test_unconditioned_draws_take_training_rows(kind):
    """Without conditions, a draw takes rows of the stored training conditions."""
    model = build(kind, 4, SMALL[kind], seed=1, conditions=1).eval()
    with pytest.raises(HepgenError, match="none are stored"):
        model.sample(5, torch.Generator())
    train = torch.randn(50, 4, generator=torch.Generator().manual_seed(3))
    model.prepare_sampling(train, seed=4)
    drawn = sample_given(model, 200, torch.Generator().manual_seed(5))
    assert set(drawn[:, 3].tolist()) <= set(train[:, 3].tolist())


@pytest.mark.parametrize("kind", sorted(CONDITIONAL_TYPES))
def test_checkpoint_keeps_conditions(kind, tmp_path):
    model = build(kind, 4, SMALL[kind], seed=1, conditions=1).eval()
    model.prepare_sampling(torch.randn(30, 4, generator=torch.Generator().manual_seed(3)))
    path = tmp_path / "model.pt"
    names = ["a", "b", "c", "cond"]
    condition = {"columns": ["cond"], "chains": {}}
    save_checkpoint(
        path,
        model,
        type=kind,
        params=SMALL[kind],
        features=names,
        training={},
        history=[],
        condition=condition,
    )
    loaded, meta = load_checkpoint(path)
    assert loaded.conditions == 1 and meta["condition"] == condition
    rows = torch.linspace(-1, 1, 7)[:, None]
    a = model.sample(7, torch.Generator().manual_seed(6), condition=rows)
    b = loaded.sample(7, torch.Generator().manual_seed(6), condition=rows)
    assert torch.allclose(a, b)
    with pytest.raises(HepgenError, match="not the last of its inputs"):
        save_checkpoint(
            path,
            model,
            type=kind,
            params=SMALL[kind],
            features=names,
            training={},
            history=[],
            condition={"columns": ["a"], "chains": {}},
        )


@pytest.mark.parametrize("kind", sorted(set(available()) - CONDITIONAL_TYPES))
def test_types_that_cannot_condition_say_so(kind):
    with pytest.raises(HepgenError, match=f"model type '{kind}' cannot be conditioned"):
        check_condition(kind, ["gen_pt"])
    with pytest.raises(HepgenError, match="cannot be conditioned"):
        build(kind, 4, {}, conditions=1)


def test_condition_key_checks():
    assert check_condition("flow", None) == []
    with pytest.raises(HepgenError, match="names a column twice"):
        check_condition("flow", ["a", "a"])
    with pytest.raises(HepgenError, match="must be a list of column names"):
        check_condition("flow", "gen_pt")


@pytest.mark.parametrize(("kind", "steps"), [("flow", 300), ("cfm", 1500), ("vae", 600)])
def test_learns_a_conditional_response(kind, steps):
    """x = c + σ(c) ε with σ = 0.1 (c < 0) or 0.3 (c ≥ 0): the model recovers mean and width
    per condition, as a fast simulation must recover a resolution per bin."""
    rng = np.random.default_rng(0)
    c = rng.uniform(-2, 2, 6000)
    sigma = np.where(c < 0, 0.1, 0.3)
    x = np.stack([c + sigma * rng.normal(size=c.size), c], axis=1).astype(np.float32)
    model = build(kind, 2, SMALL[kind], seed=2, conditions=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    data, generator = torch.from_numpy(x), torch.Generator().manual_seed(3)
    for step in range(steps):
        batch = data[torch.randint(len(data), (256,), generator=generator)]
        loss = model.loss(batch, generator=generator)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if kind == "cfm":
            model.update_average(step)
    model.eval()
    for value, width in ((-1.0, 0.1), (1.0, 0.3)):
        rows = torch.full((4000, 1), value)
        drawn = model.sample(4000, torch.Generator().manual_seed(4), condition=rows)[:, 0].numpy()
        assert abs(np.mean(drawn) - value) < 0.1, (kind, value, np.mean(drawn))
        if kind != "vae":  # a VAE's decoder averages: its width is not a density estimate
            q75, q25 = np.percentile(drawn, [75, 25])
            assert (q75 - q25) / 1.349 == pytest.approx(width, rel=0.35), (kind, value)
