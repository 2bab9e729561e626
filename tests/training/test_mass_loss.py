"""The MMD² loss on invariant masses: its estimate, its masses, and its place in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from representation_events import RULES, dimuon, dimuon_events, jet_events

from hepgen.errors import HepgenError
from hepgen.models import PHYSICS_LOSS_TYPES, REGISTRY, build
from hepgen.models.step import StepContext
from hepgen.preprocessing import Representation, Transform
from hepgen.training.mass_loss import MassMMD, mmd2


def test_mmd_is_zero_for_one_sample_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(0)
    b = torch.as_tensor(rng.normal(91.0, 3.0, 2000))
    assert mmd2(b, b).item() == pytest.approx(0.0, abs=1e-12)
    shifts = [mmd2(b + shift, b).item() for shift in (0.5, 1.0, 3.0)]
    assert 0 < shifts[0] < shifts[1] < shifts[2]
    wide = torch.as_tensor(rng.normal(91.0, 9.0, 2000))  # a peak three times too wide
    same = torch.as_tensor(rng.normal(91.0, 3.0, 2000))
    assert mmd2(wide, b).item() > 20 * mmd2(same, b).item()


def test_weighted_real_events_count_as_repeated_ones() -> None:
    rng = np.random.default_rng(1)
    a = torch.as_tensor(rng.normal(0.0, 1.0, 300))
    b = torch.as_tensor(rng.normal(0.5, 1.0, 200))
    weights = torch.as_tensor(rng.integers(1, 4, 200).astype(float))
    repeated = torch.repeat_interleave(b, weights.long())
    assert mmd2(a, b, weights / weights.mean()).item() == pytest.approx(
        mmd2(a, repeated).item(), rel=0.05
    )  # equal up to the kernel scale, taken from the (repeated) real values' spread


def _jet_transform() -> Transform:
    table = jet_events(np.random.default_rng(2))
    rep = Representation.from_config({"objects": [{"name": "jet", "max": 3, "min": 2}]}, seed=1)
    return Transform.from_rules(
        list(table.columns), RULES, phi={"reference": "auto", "mode": "keep"}, representation=rep
    ).fit(table)


def test_every_pair_and_triple_of_a_collection_and_a_systems_mass() -> None:
    loss = MassMMD(_jet_transform(), ["jet"], weight=0.5)
    assert list(loss.combinations) == [
        "m_jet1jet2", "m_jet1jet3", "m_jet2jet3", "m_jet1jet2jet3",
    ]  # fmt: skip
    table = dimuon_events(np.random.default_rng(3), 2000)
    transform = Transform.from_rules(
        list(table.columns), RULES, phi={"reference": "auto"}, representation=dimuon()
    ).fit(table)
    assert list(MassMMD(transform, ["ll"], 1.0).combinations) == ["m_ll"]
    assert list(MassMMD(transform, ["mu"], 1.0).combinations) == ["m_mu1mu2"]
    with pytest.raises(HepgenError, match="'jet' is neither a collection"):
        MassMMD(transform, ["jet"], 1.0)


def test_the_loss_is_zero_between_a_batch_and_itself_and_positive_against_noise() -> None:
    transform = _jet_transform()
    loss = MassMMD(transform, ["jet"], weight=2.0)
    table = jet_events(np.random.default_rng(4), 500)
    real = torch.as_tensor(transform.forward(table))
    assert loss(real, real).item() == pytest.approx(0.0, abs=1e-9)
    noise = torch.randn(real.shape, generator=torch.Generator().manual_seed(0)) * 2.0
    assert loss(noise.requires_grad_(True), real).item() > 0.01


def test_one_pass_types_add_the_loss_to_their_generated_batch() -> None:
    assert {t for t, cls in REGISTRY.items() if cls.takes_physics_loss} == PHYSICS_LOSS_TYPES
    transform = _jet_transform()
    table = jet_events(np.random.default_rng(5), 256)
    x = torch.as_tensor(transform.forward(table))
    for model_type in sorted(PHYSICS_LOSS_TYPES):
        model = build(model_type, x.shape[1], {"hidden": 16, "layers": 2}, seed=1)
        model.physics_loss = MassMMD(transform, ["jet"], weight=1.0)
        generator_net = model.generator if model_type == "gan" else model.decoder
        before = [p.detach().clone() for p in generator_net.parameters()]
        ctx = StepContext("cpu", None, None, torch.Generator().manual_seed(0))
        parts = model.train_step(x, None, model.optimizers(lr=1e-3, weight_decay=0.0), ctx)
        assert parts["physics"].item() > 0
        moved = [
            not torch.equal(a, b) for a, b in zip(before, generator_net.parameters(), strict=True)
        ]
        assert all(moved)
