"""ONNX export: the exported sampling networks against the torch models on the same noise."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from hepgen.errors import HepgenError  # noqa: E402
from hepgen.export import export_model, export_onnx  # noqa: E402
from hepgen.models import available, build  # noqa: E402
from hepgen.preprocessing import Transform  # noqa: E402
from hepgen.preprocessing.elementary import Quantile, Standard  # noqa: E402
from hepgen.training import TrainConfig, train_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "models"))
from test_registry import SMALL  # noqa: E402

#: Parity of ONNX Runtime with torch: |onnx - torch| <= ATOL + RTOL |torch| elementwise.
#: Both run the same float32 operations in different kernels (ELU, erf, matmul order); the
#: differences measured are at most 2.1e-6 (the flow) for events of order 1 to 5; the
#: relative ones are large only next to zero, hence the absolute term.
RTOL, ATOL = 1e-5, 1e-5
#: The physical columns in float32 against Transform.inverse in float64 of the same events:
#: exp and the quantile interpolation (steep in the tails) amplify float32 rounding.
RTOL_PHYSICAL, ATOL_PHYSICAL = 1e-5, 1e-4
#: Types that pick a mixture component or buffered code from Phi(noise[:, -1]).
PICKING = {"bgmm", "vae_bgmm", "avae_bgmm", "bvae"}
CONFIG = TrainConfig(
    epochs=1, batch_size=64, lr=1e-3, device="cpu", seed=5, select_every=1, checkpoint_every=0
)
#: The flow trains faster, so that its splines are far from the identity.
FLOW_CONFIG = TrainConfig(**{**CONFIG.__dict__, "epochs": 2, "lr": 1e-2})


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Tiny networks run on one torch thread."""


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal(np.arange(6.0) / 6.0, 0.5 * np.eye(6) + 0.5, size=640)
    x[:, 0] = np.log(rng.exponential(30.0, size=640)) - 3.0
    x = x.astype(np.float32)
    return x[:512], x[512:]


_TRAINED: dict[str, torch.nn.Module] = {}


def trained(model_type: str, events) -> torch.nn.Module:
    """A small model of ``model_type`` trained for one epoch (the flow two, faster)."""
    if model_type not in _TRAINED:
        model = build(model_type, 6, SMALL[model_type], seed=3)
        train_model(model, *events, FLOW_CONFIG if model_type == "flow" else CONFIG)
        _TRAINED[model_type] = model.eval()
    return _TRAINED[model_type]


def _phi(z: torch.Tensor) -> torch.Tensor:
    return torch.special.ndtr(z.double())


def _picked(z: torch.Tensor, size: int, cdf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The entries (n,) chosen by u = Phi(z) as hepgen.models.vae.draw_index would choose them
    for that u, and whether u lies within 1e-6 of a boundary (float32 may choose either)."""
    u = _phi(z)
    if len(cdf) == 0:
        edges = torch.arange(size + 1, dtype=torch.float64) / size
        index = (u * size).floor().long().clamp(0, size - 1)
    else:
        edges = torch.cat([cdf.new_zeros(1), cdf]) / cdf[-1]
        index = torch.searchsorted(cdf, u * cdf[-1], right=True).clamp(max=size - 1)
    near = (u[:, None] - edges[None, :]).abs().min(dim=1).values < 1e-6
    return index, near


def reference(model, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The torch sampler's events (n, d) for ``noise`` (n, k), and which rows are ambiguous."""
    n, ambiguous = len(noise), torch.zeros(len(noise), dtype=torch.bool)
    kind = model.model_type
    with torch.no_grad():
        if kind not in PICKING:  # these draw exactly torch.randn((n, k)) from the generator
            return model.sample(n, torch.Generator().manual_seed(SEED)), ambiguous
        eps, last = noise[:, :-1], noise[:, -1]
        if kind in {"bgmm", "vae_bgmm", "avae_bgmm"}:
            mix = model.mixture
            index, ambiguous = _picked(last, len(mix.weights), torch.cumsum(mix.weights, 0))
            z = mix.means[index] + torch.einsum("nij,nj->ni", mix.scale_tril[index], eps)
        else:
            index, ambiguous = _picked(last, len(model.buffer_mu), model.buffer_cdf)
            mu, sigma, hp = model.buffer_mu[index], model.buffer_sigma[index], model.hparams
            z = mu + (hp.alpha * sigma + hp.gamma) * eps  # bvae
        return (z if kind == "bgmm" else model.decode(z)).float(), ambiguous


SEED = 4


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("model_type", available())
def test_onnx_matches_torch(model_type: str, events, tmp_path) -> None:
    model = trained(model_type, events)
    info = export_model(model, tmp_path / "model.onnx")
    session = _session(tmp_path / "model.onnx")
    (inp,) = session.get_inputs()
    assert inp.name == "noise" and isinstance(inp.shape[0], str)  # a symbolic batch size
    assert [o.name for o in session.get_outputs()] == ["events"]
    k = info.inputs["noise"]
    assert inp.shape[1] == k
    assert k == (SMALL[model_type].get("latent", 6) + (model_type in PICKING))
    for n in (1, 1000):
        noise = torch.randn((n, k), generator=torch.Generator().manual_seed(SEED))
        (out,) = session.run(None, {"noise": noise.numpy()})
        expected, ambiguous = reference(model, noise)
        assert out.shape == (n, 6) and out.dtype == np.float32
        assert int(ambiguous.sum()) <= 2
        keep = ~ambiguous.numpy()
        np.testing.assert_allclose(out[keep], expected.numpy()[keep], rtol=RTOL, atol=ATOL)


def test_flow_splines_are_not_trivial(events, tmp_path) -> None:
    """The flow of the parity test moves points by splines, not by the identity outside them."""
    model = trained("flow", events)
    z = torch.randn((1000, 6), generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        x = model.flow.inverse(z)
    assert (x - z).abs().max() > 0.3
    moved = ((x - z).abs() > 1e-3) & (z.abs() < 5.0)
    assert moved.float().mean() > 0.3  # half of the features are splined per transform


def test_vae_codes_input_is_the_decoder(events, tmp_path) -> None:
    model = trained("bvae", events)
    info = export_model(model, tmp_path / "decoder.onnx", codes=True)
    assert info.inputs == {"codes": 3}
    z = torch.randn((1000, 3), generator=torch.Generator().manual_seed(1))
    (out,) = _session(tmp_path / "decoder.onnx").run(None, {"codes": z.numpy()})
    with torch.no_grad():
        expected = model.decode(z).numpy()
    np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def _table(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "a": rng.normal(3.0, 2.0, n),
            "b": rng.exponential(40.0, n) + 1.0,
            "c": rng.uniform(-2.0, 5.0, n),
            "d": rng.beta(2.0, 5.0, n),
            "e": rng.gamma(2.0, 3.0, n),
            "f": rng.integers(0, 4, n).astype(float),
            "g": np.full(n, 3.0),
        }
    )


RULES = [
    {"match": "a", "chain": ["standard"]},
    {"match": "b", "chain": ["log", "standard"]},
    {"match": "c", "chain": [{"minmax": {"low": -1.0, "high": 1.0}}]},
    {"match": "d", "chain": [{"minmax": {"low": 0.05, "high": 0.95}}, "logit"]},
    {"match": "e", "chain": [{"quantile": {"quantiles": 50}}]},
    {"match": "f", "chain": ["discrete", "standard"]},
    {"match": "*", "chain": ["standard"]},
]


def test_physical_output_inverts_the_chains(tmp_path) -> None:
    table = _table()
    transform = Transform.from_rules(list(table.columns), RULES).fit(table)
    assert transform.features == list("abcdef") and transform.constants == {"g": 3.0}
    x = transform.forward(table)
    model = build("vae", 6, SMALL["vae"], seed=1)
    train_model(model, x[:1600], x[1600:], CONFIG)
    generator = SimpleNamespace(model=model, transform=transform, features=transform.features)
    export_onnx(generator, tmp_path / "physical.onnx")
    session = _session(tmp_path / "physical.onnx")
    assert [o.name for o in session.get_outputs()] == ["events", "physical"]
    for n in (1, 1000):
        noise = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
        events, physical = session.run(None, {"noise": noise})
        expected = transform.inverse(events).to_numpy()
        assert physical.shape == (n, 7)
        np.testing.assert_allclose(physical, expected, rtol=RTOL_PHYSICAL, atol=ATOL_PHYSICAL)
    assert set(np.unique(physical[:, 5])) <= {0.0, 1.0, 2.0, 3.0}


def test_relative_angles_keep_events_in_transformed_space(events, tmp_path) -> None:
    columns = ["j1_pt", "j1_phi", "j2_phi", "x", "y", "z"]
    table = pd.DataFrame(events[0].astype(np.float64) % 3.0, columns=columns)
    transform = Transform.from_rules(
        columns,
        [{"match": "*", "chain": ["standard"]}],
        phi={"reference": "j1_phi", "mode": "keep"},
    ).fit(table)
    model = trained("gan", events)
    generator = SimpleNamespace(model=model, transform=transform, features=transform.features)
    export_onnx(generator, tmp_path / "gan.onnx")
    assert [o.name for o in _session(tmp_path / "gan.onnx").get_outputs()] == ["events"]
    with pytest.raises(HepgenError) as err:
        export_model(model, tmp_path / "no.onnx", transform=transform, features=transform.features)
    assert str(err.value) == (
        "the transform cannot be exported: its relative azimuths need a drawn reference angle, "
        "added outside the graph"
    )
    assert not (tmp_path / "no.onnx").exists()


@pytest.mark.parametrize(
    ("model_type", "what"),
    [
        ("bgmm", "Gaussian mixture"),
        ("vae_bgmm", "Gaussian mixture"),
        ("bvae", "density information buffer"),
        ("avae_bgmm", "Gaussian mixture"),
        ("copula_vae", "latent copula"),
        ("copula_vae_d", "latent copula"),
    ],
)
def test_unfitted_sampler_is_refused(model_type: str, what: str, tmp_path) -> None:
    model = build(model_type, 6, SMALL[model_type], seed=3)
    with pytest.raises(HepgenError) as err:
        export_model(model, tmp_path / "model.onnx")
    assert str(err.value) == f"model type {model_type!r} has no fitted {what}; fit it first"


@pytest.mark.parametrize("model_type", ["gan", "flow", "cfm", "bgmm"])
def test_codes_input_needs_a_decoder(model_type: str, tmp_path) -> None:
    model = build(model_type, 6, SMALL[model_type], seed=3)
    with pytest.raises(HepgenError) as err:
        export_model(model, tmp_path / "model.onnx", codes=True)
    assert str(err.value) == (
        f"model type {model_type!r} has no decoder: only VAE types export latent codes"
    )


@pytest.mark.parametrize("package", ["onnx", "onnxscript"])
def test_missing_package_is_named(package: str, monkeypatch, tmp_path) -> None:
    import hepgen.export as export

    real = export.importlib.import_module

    def missing(name: str, *args):
        if name == package:
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(export.importlib, "import_module", missing)
    with pytest.raises(HepgenError) as err:
        export_model(build("vae", 6, SMALL["vae"]), tmp_path / "model.onnx")
    assert str(err.value) == (
        f"ONNX export needs the Python package {package!r}: pip install onnx onnxscript"
    )


def test_metadata_names_the_noise(events, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    export_model(trained("cfm", events), tmp_path / "cfm.onnx", features=list("abcdef"))
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "cfm.onnx")).metadata_props}
    assert meta["hepgen.model_type"] == "cfm"
    assert '"width": 6' in meta["hepgen.input"] and "steps" in meta["hepgen.input"]
    assert meta["hepgen.outputs"] == '{"events": ["a", "b", "c", "d", "e", "f"]}'


def test_quantile_with_uneven_references(tmp_path) -> None:
    """A quantile step whose probabilities are not evenly spaced is interpolated as np.interp."""
    step = Quantile(quantiles=10, references=[0.0, 0.05, 0.3, 0.31, 0.9, 1.0])
    step.values = [-4.0, -1.0, 0.0, 0.5, 2.0, 9.0]
    transform = Transform(["a", "b"], {"a": [step], "b": [Standard(mean=1.0, std=2.0)]})
    model = build("flow", 2, SMALL["flow"], seed=2)  # close to the identity: events ~ N(0, 1)
    export_model(model, tmp_path / "q.onnx", transform=transform, features=["a", "b"])
    noise = np.random.default_rng(3).normal(size=(1000, 2)).astype(np.float32)
    events, physical = _session(tmp_path / "q.onnx").run(None, {"noise": noise})
    expected = transform.inverse(events).to_numpy()
    assert np.ptp(expected[:, 0]) > 3.0  # the events reach several segments
    np.testing.assert_allclose(physical, expected, rtol=RTOL_PHYSICAL, atol=ATOL_PHYSICAL)


#: Conditional types: two of the six inputs are the condition.
CONDITIONAL = ["vae", "avae", "flow", "cfm"]


@pytest.mark.parametrize("model_type", CONDITIONAL)
def test_conditional_onnx_takes_the_condition(model_type: str, events, tmp_path) -> None:
    """noise (batch, w) and condition (batch, 2) -> the generated features, then the condition,
    as the torch model draws them given the same condition rows."""
    model = build(model_type, 6, SMALL[model_type], seed=3, conditions=2)
    train_model(model, *events, FLOW_CONFIG if model_type == "flow" else CONFIG)
    model.eval()
    info = export_model(model, tmp_path / "given.onnx", features=list("abcdef"))
    width = SMALL[model_type].get("latent", 4)
    assert info.inputs == {"noise": width, "condition": 2}
    session = _session(tmp_path / "given.onnx")
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [
        ("noise", width),
        ("condition", 2),
    ]
    condition = torch.from_numpy(events[1][:, 4:])  # 128 held-out condition rows
    noise = torch.randn((128, width), generator=torch.Generator().manual_seed(SEED))
    (out,) = session.run(None, {"noise": noise.numpy(), "condition": condition.numpy()})
    with torch.no_grad():
        expected = model.sample(128, torch.Generator().manual_seed(SEED), condition=condition)
    np.testing.assert_allclose(out, expected.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(out[:, 4:], condition.numpy())
    other = condition.flip(0)  # the condition moves the events
    (moved,) = session.run(None, {"noise": noise.numpy(), "condition": other.numpy()})
    assert np.abs(moved[:, :4] - out[:, :4]).max() > 1e-3


def test_conditional_physical_output_follows_the_input_order(tmp_path) -> None:
    """Conditioned on feature ``a``: the inputs are b..f, a; the physical columns a..g."""
    from hepgen.preprocessing.condition import Conditioning

    table = _table()
    transform = Transform.from_rules(list(table.columns), RULES).fit(table)
    conditioning = Conditioning(transform, ["a"])
    assert conditioning.inputs == [*"bcdef", "a"]
    x = conditioning.forward(table)
    model = build("flow", 6, SMALL["flow"], seed=1, conditions=1)
    train_model(model, x[:1600], x[1600:], FLOW_CONFIG)
    generator = SimpleNamespace(
        model=model.eval(), transform=transform, features=conditioning.inputs
    )
    export_onnx(generator, tmp_path / "given.onnx")
    session = _session(tmp_path / "given.onnx")
    assert [o.name for o in session.get_outputs()] == ["events", "physical"]
    condition = conditioning.encode(table.head(500))
    noise = np.random.default_rng(2).normal(size=(500, 5)).astype(np.float32)
    events, physical = session.run(None, {"noise": noise, "condition": condition})
    expected = conditioning.inverse(events)[transform.columns].to_numpy()
    np.testing.assert_allclose(physical, expected, rtol=RTOL_PHYSICAL, atol=ATOL_PHYSICAL)
    np.testing.assert_allclose(physical[:, 0], table["a"].head(500), rtol=1e-5)


def test_conditional_types_without_export_are_refused(tmp_path) -> None:
    model = build("flow", 6, SMALL["flow"], seed=3, conditions=2)
    with pytest.raises(HepgenError) as err:
        export_model(model, tmp_path / "codes.onnx", codes=True)
    assert str(err.value) == "model type 'flow' has no decoder: only VAE types export latent codes"
    assert not (tmp_path / "codes.onnx").exists()
