"""Tests for the GAN: the weighted truth term, the gradient penalties (arXiv:1801.04406,
1705.09367, 1704.00028), Lebese's generator loss, prior and output."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hepgen.models import build
from hepgen.models.gan import GAN, gradient_penalty, real_term, roth_penalty
from hepgen.models.layers import ResidualMLP
from hepgen.models.step import StepContext
from hepgen.training import TrainConfig, train_model


def _linear_critic(slope: list[float]) -> ResidualMLP:
    """A critic D(x) = slope . x + 1 (one hidden layer made linear by zeroing the ELU path)."""
    critic = ResidualMLP(len(slope), 1, hidden=len(slope), layers=1)
    with torch.no_grad():
        critic.inp.weight.copy_(torch.eye(len(slope)))
        critic.inp.bias.fill_(10.0)  # ELU is the identity for positive inputs
        critic.out.weight.copy_(torch.tensor([slope]))
        critic.out.bias.fill_(1.0 - 10.0 * sum(slope))
    return critic


def test_penalties_of_a_linear_critic() -> None:
    critic = _linear_critic([3.0, 4.0])  # |grad D| = 5 everywhere
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    linear = (x @ torch.tensor([3.0, 4.0]) + 1.0).numpy()
    assert critic(x).squeeze(-1).detach().numpy() == pytest.approx(linear, abs=1e-4)
    assert gradient_penalty(critic, x, target=None).item() == pytest.approx(12.5)  # R1: |g|^2/2
    assert gradient_penalty(critic, x, target=1.0).item() == pytest.approx(16.0)  # (|g|-1)^2


def test_weights_enter_the_truth_term_only() -> None:
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0])
    weights = torch.tensor([2.0, 0.0, 1.5, 0.5])  # mean 1
    expected = (weights * F.softplus(-logits)).mean()
    assert real_term(logits, weights, wasserstein=False).item() == pytest.approx(expected.item())
    assert real_term(logits, None, wasserstein=True).item() == pytest.approx(-logits.mean().item())
    # a negatively weighted event pushes its logit down instead of up
    neg = torch.tensor([-1.0, 1.0, 1.0, 3.0])
    logit = torch.zeros(4, requires_grad=True)
    real_term(logit, neg, wasserstein=False).backward()
    assert logit.grad[0] > 0 > logit.grad[1]


def test_discriminator_steps_per_generator_step() -> None:
    gan = build("gan", 3, {"latent": 2, "hidden": 8, "layers": 1, "d_steps": 3})
    assert isinstance(gan, GAN)
    x = np.random.default_rng(0).normal(size=(96, 3)).astype(np.float32)
    g_before = [p.clone() for p in gan.generator.parameters()]
    train_model(
        gan, x[:64], x[64:], TrainConfig(epochs=1, batch_size=32, device="cpu", checkpoint_every=0)
    )
    # 2 batches: the generator is updated on every third discriminator step only
    assert all(torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters(), strict=True))


def test_gan_moves_towards_a_shifted_gaussian() -> None:
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(2048, 2)) * [1.0, 0.5] + [2.0, -1.0]).astype(np.float32)
    gan = build("gan", 2, {"latent": 2, "hidden": 32, "layers": 2, "penalty": 1.0}, seed=0)
    config = TrainConfig(epochs=30, batch_size=128, lr=2e-3, device="cpu", checkpoint_every=0)
    train_model(gan, x[:1792], x[1792:], config)
    gen = gan.sample(5000, torch.Generator().manual_seed(1)).numpy()
    assert gen.mean(axis=0) == pytest.approx([2.0, -1.0], abs=0.25)
    assert gen.std(axis=0) == pytest.approx([1.0, 0.5], rel=0.3)


def test_roth_penalty_of_a_linear_critic() -> None:
    critic = _linear_critic([3.0, 4.0])  # phi = 3 x1 + 4 x2 + 1, |grad phi|^2 = 25
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(40, 2, generator=gen), torch.randn(30, 2, generator=gen) + 0.5
    d_real = torch.sigmoid(real @ torch.tensor([3.0, 4.0]) + 1.0)
    d_fake = torch.sigmoid(fake @ torch.tensor([3.0, 4.0]) + 1.0)
    expected = 25.0 * ((1.0 - d_real).pow(2).mean() + d_fake.pow(2).mean())
    assert roth_penalty(critic, real, fake).item() == pytest.approx(expected.item(), rel=1e-4)


def test_roth_penalty_is_the_lecture_formula() -> None:
    """A nonlinear toy D: grad phi from autograd of D = sigmoid(logit) and the chain rule
    d phi / dx = dD/dx / (D (1 - D)) of the lecture, per event, against roth_penalty."""
    torch.manual_seed(0)
    critic = ResidualMLP(3, 1, hidden=16, layers=2)
    gen = torch.Generator().manual_seed(2)
    real, fake = torch.randn(25, 3, generator=gen), 0.7 * torch.randn(20, 3, generator=gen)

    def term(x: torch.Tensor, factor) -> torch.Tensor:
        values = []
        for event in x:
            event = event.clone().requires_grad_(True)
            d = torch.sigmoid(critic(event[None]).squeeze())
            (grad_d,) = torch.autograd.grad(d, event)
            grad_phi = grad_d / (d * (1.0 - d))
            values.append(factor(d.detach()) ** 2 * grad_phi.pow(2).sum())
        return torch.stack(values).mean()

    expected = term(real, lambda d: 1.0 - d) + term(fake, lambda d: d)
    penalty = roth_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-4)
    assert penalty.item() > 1e-3  # not trivially zero
    # the penalty trains the discriminator: its gradient reaches every parameter
    grads = torch.autograd.grad(penalty, list(critic.parameters()), allow_unused=True)
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_roth_penalty_ignores_event_weights() -> None:
    gan = build("gan", 2, {"latent": 2, "hidden": 8, "layers": 1, "loss": "roth"}, seed=1)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    ctx = StepContext("cpu", None, None, torch.Generator().manual_seed(5))
    weights = torch.linspace(-0.5, 2.5, 64)  # mean 1, some negative
    penalties = []
    for w in (None, weights):
        model = copy.deepcopy(gan)
        opts = model.optimizers(lr=1e-3, weight_decay=0.0)
        ctx.generator.manual_seed(5)
        penalties.append(model.train_step(x, w, opts, ctx)["penalty"].item())
    assert penalties[0] == penalties[1] > 0


@pytest.mark.parametrize("loss", ["r1", "roth", "wgan-gp", "mse"])
def test_penalty_is_reported_and_weighted(loss: str) -> None:
    """The step's d_loss is the adversarial terms plus ``penalty`` times the reported penalty."""
    params = {"latent": 2, "hidden": 8, "layers": 1, "loss": loss, "penalty": 3.0}
    gan = build("gan", 2, params, seed=1)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    ctx = StepContext("cpu", None, None, torch.Generator().manual_seed(5))
    out = gan.train_step(x, None, gan.optimizers(lr=0.0, weight_decay=0.0), ctx)
    ctx.generator.manual_seed(5)
    plain = gan.loss(x, generator=ctx.generator)["d_loss"]
    assert out["d_loss"].item() == pytest.approx(plain.item() + 3.0 * out["penalty"].item())


def test_mse_generator_loss_is_lebeses() -> None:
    """loss mse: the generator's loss is (D(G(z)) - 1)^2 on the probability D."""
    gan = build("gan", 3, {"latent": 4, "hidden": 8, "layers": 1, "loss": "mse"}, seed=2)
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    parts = gan.loss(x, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        fake = gan.generate(50, torch.Generator().manual_seed(9), x.device)
        d = torch.sigmoid(gan.discriminator(fake).squeeze(-1))
    assert parts["g_loss"].item() == pytest.approx((d - 1.0).pow(2).mean().item(), rel=1e-6)
    bce = F.softplus(-gan.discriminator(x)).mean() + F.softplus(gan.discriminator(fake)).mean()
    assert parts["d_loss"].item() == pytest.approx(bce.item(), rel=1e-6)


def test_uniform_prior_and_sigmoid_output() -> None:
    params = {"latent": 64, "hidden": 16, "layers": 2, "prior": "uniform", "output": "sigmoid"}
    gan = build("gan", 3, {**params, "beta1": 0.5, "beta2": 0.5}, seed=0)
    seen = []
    net = next(m for m in gan.generator.modules() if isinstance(m, ResidualMLP))
    net.register_forward_hook(lambda module, inp, out: seen.append(inp[0]))
    events = gan.sample(20_000, torch.Generator().manual_seed(1))
    (z,) = seen
    assert z.shape == (20_000, 64) and 0.0 <= z.min() and z.max() <= 1.0
    assert z.mean().item() == pytest.approx(0.5, abs=0.005)
    assert z.var().item() == pytest.approx(1.0 / 12.0, rel=0.02)  # U(0, 1)
    assert 0.0 < events.min() and events.max() < 1.0
    for opt in gan.optimizers(lr=1e-3, weight_decay=0.0).values():
        assert opt.param_groups[0]["betas"] == (0.5, 0.5)
    # the default generator keeps its parameter names (checkpoints of earlier versions load)
    plain = build("gan", 3, {"latent": 2, "hidden": 8, "layers": 1})
    assert "generator.inp.weight" in plain.state_dict()
    assert isinstance(plain.generator, ResidualMLP)


def test_uniform_sigmoid_generator_exports_as_sampled(tmp_path) -> None:
    """The exported generator takes N(0, 1) noise and applies Phi and the sigmoid itself."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from hepgen.export import export_model

    params = {"latent": 5, "hidden": 8, "layers": 1, "prior": "uniform", "output": "sigmoid"}
    gan = build("gan", 3, params, seed=0).eval()
    export_model(gan, tmp_path / "gan.onnx")
    noise = torch.randn((500, 5), generator=torch.Generator().manual_seed(4))
    session = ort.InferenceSession(str(tmp_path / "gan.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"noise": noise.numpy()})
    expected = gan.sample(500, torch.Generator().manual_seed(4)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("loss", ["roth", "mse"])
def test_other_losses_move_towards_a_shifted_gaussian(loss: str) -> None:
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(2048, 2)) * [1.0, 0.5] + [2.0, -1.0]).astype(np.float32)
    params = {"latent": 2, "hidden": 32, "layers": 2, "penalty": 1.0, "loss": loss}
    gan = build("gan", 2, params, seed=0)
    config = TrainConfig(epochs=30, batch_size=128, lr=2e-3, device="cpu", checkpoint_every=0)
    train_model(gan, x[:1792], x[1792:], config)
    gen = gan.sample(5000, torch.Generator().manual_seed(1)).numpy()
    assert gen.mean(axis=0) == pytest.approx([2.0, -1.0], abs=0.25)
    assert gen.std(axis=0) == pytest.approx([1.0, 0.5], rel=0.3)
