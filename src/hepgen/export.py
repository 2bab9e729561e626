"""ONNX export of a trained generator's sampling network, for ONNX Runtime in C++ frameworks.

Every exported graph has one input ``noise``, float32 of shape (batch, k), holding independent
standard normal draws N(0, 1) that the caller generates, and the output ``events``, float32
(batch, d): the generated events in the transformed space (the network's space, features in
the order of the checkpoint). The batch dimension is dynamic. What the k columns of ``noise``
drive, per model type:

* ``vae``, ``vae_d``, ``avae``: k = latent; the decoder of z = noise (the N(0, 1) prior,
  arXiv:1901.00875).
* ``vae_nf``, ``vae_nf_d``: k = latent; z is noise pushed through the inverse of the spline
  coupling flow prior (arXiv:1906.04032), then decoded.
* ``copula_vae``, ``copula_vae_d``: k = latent; g = L noise with the Cholesky factor L of the
  fitted Gaussian copula, u = Phi(g), z the piecewise-linear empirical quantiles of the
  training codes at u (Stevenson (2022)), then decoded.
* ``vae_bgmm``, ``avae_bgmm``: k = latent + 1; Phi of the last column picks the mixture
  component by its weight, z = mean_c + L_c noise[:, :latent], then decoded.
* ``bvae``: k = latent + 1; Phi of the last column picks a buffer entry i (uniformly, or by
  the training weight), z = mu_i + (alpha sigma_i + gamma) noise[:, :latent], then decoded
  (arXiv:1901.00875). The buffer (two floats per latent dimension and training event) is
  stored in the file.
* ``gan``: k = latent; the generator G(noise).
* ``flow``: k = d; noise pushed through the inverse of the spline coupling flow, splines
  included (arXiv:1906.04032).
* ``cfm``: k = d; x0 = noise integrated from t = 0 to t = 1 through the averaged velocity
  field with the model's fixed-step solver, every step unrolled (arXiv:2210.02747).
* ``bgmm``: k = d + 1; as ``vae_bgmm`` in the event space.

A conditional model (``vae``, ``avae``, ``flow``, ``cfm`` trained with ``condition``
columns, p(features | condition)) has a second input ``condition``, float32 (batch, k): the k
condition columns in the transformed space, as
:meth:`hepgen.preprocessing.condition.Conditioning.encode` gives them. Its ``noise`` drives
the d − k generated features (``vae``, ``avae``: k = latent, the decoder reads z and the
condition; ``flow``, ``cfm``: width d − k, the conditioners or the velocity read the
condition), and ``events`` (batch, d) holds them followed by the condition, as the torch model's
``sample`` returns them (the checkpoint's input order).

The component and buffer choices use u = Phi(noise[:, -1]) in float32, so probabilities are
met to about 1e-7; the torch models draw u uniformly instead, so the exported and the torch
samplers agree in distribution, and exactly given the same u.

:func:`export_onnx` also appends the output ``physical``, float32 (batch, columns): the
inverse of the per-feature chains (standard, log, minmax, logit, quantile by piecewise-linear
interpolation, discrete by rounding) and the constant columns, in physical units, when the
fitted transform has neither an event representation nor relative angles; their inverse
(four-vectors, systems, the drawn reference azimuth) is left to the caller's framework, which
then reads ``events`` and applies :meth:`hepgen.preprocessing.Transform.inverse`.

Writing needs the packages ``onnx`` and ``onnxscript`` (the torch.export-based exporter);
importing this module does not.
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.models.base import GeneratorModule
from hepgen.models.cfm import integrate
from hepgen.models.kernels import torch_only
from hepgen.preprocessing.elementary import (
    Discrete,
    Elementary,
    Log,
    Logit,
    MinMax,
    Quantile,
    Standard,
)

__all__ = ["ExportInfo", "export_model", "export_onnx", "noise_width"]

log = logging.getLogger(__name__)

#: The packages that writing an ONNX file needs.
PACKAGES = ("onnx", "onnxscript")

_VAES = {"vae", "vae_d", "vae_nf", "vae_nf_d", "copula_vae", "copula_vae_d", "vae_bgmm"}
_VAES |= {"bvae", "avae", "avae_bgmm"}


@dataclass
class ExportInfo:
    """What an exported file computes.

    Attributes:
        model_type: the registered model type.
        inputs: ``{name: width}``: ``noise`` (or ``codes``), float32 (batch, width), and for a
            conditional model ``condition`` (batch, k).
        outputs: ``{name: column names}``; ``events`` always, ``physical`` with a transform.
        noise: how the caller draws the input, in words.
        opset: the ONNX opset.
    """

    model_type: str
    inputs: dict[str, int]
    outputs: dict[str, list[str]]
    noise: str
    opset: int
    metadata: dict[str, str] = field(default_factory=dict)


def _require() -> None:
    for name in PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError as err:
            msg = f"ONNX export needs the Python package {name!r}: pip install onnx onnxscript"
            raise HepgenError(msg) from err


def _phi(z: Tensor) -> Tensor:
    """The standard normal distribution function, elementwise, with erf (an ONNX operator)."""
    return 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))


def _count_at_most(table: Tensor, u: Tensor) -> Tensor:
    """Number of entries of the non-decreasing ``table`` (n,) that are <= ``u`` (batch,).

    ``torch.searchsorted(table, u, right=True)`` as an unrolled binary search of
    ceil(log2(n + 1)) gathers, since ONNX has no search operator; int64 of shape (batch,).
    """
    n = len(table)
    count = torch.zeros_like(u, dtype=torch.int64)
    step = 1 << (n.bit_length() - 1)
    while step >= 1:
        candidate = count + step
        value = table.gather(0, (candidate - 1).clamp(max=n - 1))
        count = torch.where((candidate <= n) & (value <= u), candidate, count)
        step //= 2
    return count


def _pick(z: Tensor, size: int, cdf: Tensor) -> Tensor:
    """Index (batch,) into ``size`` entries from standard normal draws ``z`` (batch,).

    u = Phi(z) is uniform on (0, 1); the index is floor(u size) when ``cdf`` is empty, else
    the first entry whose cumulative weight exceeds u cdf[-1] (``hepgen.models.vae.draw_index``
    with the same u).
    """
    u = _phi(z)
    if len(cdf) == 0:
        return (u * size).floor().to(torch.int64).clamp(0, size - 1)
    target = u.to(cdf.dtype) * cdf[-1]
    return _count_at_most(cdf, target).clamp(max=size - 1)


def _interpolate(table: Tensor, u: Tensor) -> Tensor:
    """Piecewise-linear interpolation of ``table`` (k, ...) at u in [0, 1] on linspace(0, 1, k).

    Arguments:
        table: values at the k evenly spaced probabilities, shape (k,) or (k, m).
        u: probabilities, shape (batch,) or (batch, m).
    """
    k = len(table)
    pos = u.clamp(0.0, 1.0) * (k - 1)
    lo = pos.floor().to(torch.int64).clamp(0, k - 2)
    frac = pos - lo.to(pos.dtype)
    below, above = table.gather(0, lo), table.gather(0, lo + 1)
    return below + frac * (above - below)


class _Mixture(nn.Module):
    """Gaussian mixture sampling: (batch, m + 1) normal draws -> points (batch, m)."""

    def __init__(self, mixture: nn.Module) -> None:
        super().__init__()
        self.register_buffer("cdf", torch.cumsum(mixture.weights, 0))
        self.register_buffer("means", mixture.means.detach().clone())
        self.register_buffer("scale_tril", mixture.scale_tril.detach().clone())

    def forward(self, noise: Tensor) -> Tensor:
        index = _pick(noise[:, -1], len(self.cdf), self.cdf)
        eps = noise[:, :-1]
        scale = self.scale_tril.index_select(0, index)  # (batch, m, m)
        return self.means.index_select(0, index) + (scale @ eps.unsqueeze(-1)).squeeze(-1)


class _Buffer(nn.Module):
    """B-VAE latent sampling around buffered codes: (batch, m + 1) -> (batch, m)."""

    def __init__(self, model: GeneratorModule) -> None:
        super().__init__()
        hp = model.hparams
        self.a, self.b = float(hp.alpha), float(getattr(hp, "gamma", 0.0))
        self.register_buffer("mu", model.buffer_mu.detach().clone())
        self.register_buffer("sigma", model.buffer_sigma.detach().clone())
        self.register_buffer("cdf", model.buffer_cdf.detach().clone())

    def forward(self, noise: Tensor) -> Tensor:
        index = _pick(noise[:, -1], len(self.mu), self.cdf)
        mu, sigma = self.mu.index_select(0, index), self.sigma.index_select(0, index)
        return mu + (self.a * sigma + self.b) * noise[:, :-1]


class _Copula(nn.Module):
    """Gaussian copula of the latent codes: (batch, m) normal draws -> (batch, m)."""

    def __init__(self, quantiles: Tensor, chol: Tensor) -> None:
        super().__init__()
        self.register_buffer("quantiles", quantiles.detach().clone())
        self.register_buffer("chol", chol.detach().clone())

    def forward(self, noise: Tensor) -> Tensor:
        u = _phi(noise @ self.chol.T)
        return _interpolate(self.quantiles, u)


class _Given(nn.Module):
    """A conditional sampler: (noise (batch, w), condition (batch, k)) -> the generated features
    (batch, d − k) followed by the condition, as a conditional model's ``sample`` returns."""

    def __init__(self, model: GeneratorModule) -> None:
        super().__init__()
        self.kind, self.model = model.model_type, model

    def forward(self, noise: Tensor, condition: Tensor) -> Tensor:
        model = self.model
        if self.kind in {"vae", "avae"}:
            x = model.decode(noise, condition)
        elif self.kind == "flow":
            x = model.flow.inverse(noise, condition)
        else:  # cfm
            hp = model.hparams
            velocity = lambda y, t: model.averaged(y, t, condition)  # noqa: E731
            x = integrate(velocity, noise, solver=hp.solver, steps=hp.steps)
        return torch.cat([x, condition.to(x.dtype)], dim=1)


#: Types whose conditional models export with the input ``condition``.
_CONDITIONAL = {"vae", "avae", "flow", "cfm"}


def _conditional_sampler(model: GeneratorModule, codes: bool) -> tuple[nn.Module, int, str]:
    """:func:`sampler` of a conditional model: a module of (noise, condition)."""
    kind, k = model.model_type, model.conditions
    if kind not in _CONDITIONAL:
        msg = f"model type {kind!r} has no conditional ONNX export (types {sorted(_CONDITIONAL)})"
        raise HepgenError(msg)
    given = f"given the condition (batch, {k})"
    if kind in {"vae", "avae"}:
        latent = model.hparams.latent
        law = "latent points z" if codes else f"z ~ N(0, 1)^{latent}"
        return _Given(model), latent, f"{law}, decoded {given}"
    if codes:
        msg = f"model type {kind!r} has no decoder: only VAE types export latent codes"
        raise HepgenError(msg)
    width = model.generated
    if kind == "flow":
        return _Given(model), width, f"z ~ N(0, 1)^{width} through the flow's inverse {given}"
    hp = model.hparams
    text = f"x0 ~ N(0, 1)^{width}, {hp.steps} {hp.solver} steps from t = 0 to 1 {given}"
    return _Given(model), width, text


class _Chain(nn.Module):
    """``latent`` map followed by ``net``: noise (batch, k) -> events (batch, d)."""

    def __init__(self, latent: nn.Module | None, net: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.latent, self.net = latent, net

    def forward(self, noise: Tensor) -> Tensor:
        z = noise if self.latent is None else self.latent(noise)
        return self.net(z)


class _Inverse(nn.Module):
    """A coupling flow's inverse as a module: base points (batch, d) -> data (batch, d)."""

    def __init__(self, flow: nn.Module) -> None:
        super().__init__()
        self.flow = flow

    def forward(self, z: Tensor) -> Tensor:
        return self.flow.inverse(z)


class _Ode(nn.Module):
    """The CFM sampler: x0 (batch, d) integrated from t = 0 to 1, the fixed steps unrolled."""

    def __init__(self, velocity: nn.Module, solver: str, steps: int) -> None:
        super().__init__()
        self.velocity, self.solver, self.steps = velocity, solver, steps

    def forward(self, x: Tensor) -> Tensor:
        return integrate(self.velocity, x, solver=self.solver, steps=self.steps)


def _unfitted(model: GeneratorModule, what: str) -> HepgenError:
    return HepgenError(f"model type {model.model_type!r} has no fitted {what}; fit it first")


def _latent_sampler(model: GeneratorModule) -> tuple[nn.Module | None, int, str]:
    """The latent map of a VAE-family model, the noise width and what the noise drives."""
    kind, latent = model.model_type, model.hparams.latent
    if kind in {"vae", "vae_d", "avae"}:
        return None, latent, f"z ~ N(0, 1)^{latent}, decoded"
    if kind in {"vae_nf", "vae_nf_d"}:
        return _Inverse(model.prior), latent, f"N(0, 1)^{latent} through the flow prior, decoded"
    if kind in {"copula_vae", "copula_vae_d"}:
        if len(model.quantiles) == 0:
            raise _unfitted(model, "latent copula")
        sampler = _Copula(model.quantiles, model.copula_chol)
        return sampler, latent, f"N(0, 1)^{latent} through the Gaussian copula, decoded"
    if kind in {"vae_bgmm", "avae_bgmm"}:
        if len(model.mixture.weights) == 0:
            raise _unfitted(model, "Gaussian mixture")
        text = f"N(0, 1)^{latent + 1}: Phi(last) picks the component, the rest its Gaussian"
        return _Mixture(model.mixture), latent + 1, text + ", decoded"
    if len(model.buffer_mu) == 0:  # bvae
        raise _unfitted(model, "density information buffer")
    text = f"N(0, 1)^{latent + 1}: Phi(last) picks a buffered code, the rest its Gaussian"
    return _Buffer(model), latent + 1, text + ", decoded"


def sampler(model: GeneratorModule, *, codes: bool = False) -> tuple[nn.Module, int, str]:
    """The sampling network of ``model`` as a module of its noise, the width k and the law.

    Arguments:
        model: a trained generator.
        codes: VAE-family types only: the decoder alone, of latent points (batch, latent).

    Returns:
        ``(module, k, description)``: the module maps (batch, k) to events (batch, d); a
        conditional model's module also takes the condition (batch, conditions).
    """
    kind, d = model.model_type, model.features
    if getattr(model, "conditions", 0):
        return _conditional_sampler(model, codes)
    if codes:
        if kind not in _VAES:
            msg = f"model type {kind!r} has no decoder: only VAE types export latent codes"
            raise HepgenError(msg)
        return _Chain(None, model.decoder), model.hparams.latent, "latent points z, decoded"
    if kind in _VAES:
        latent, k, text = _latent_sampler(model)
        return _Chain(latent, model.decoder), k, text
    if kind == "gan":
        latent = model.hparams.latent
        return _Chain(None, model.generator), latent, f"z ~ N(0, 1)^{latent}, G(z)"
    if kind == "flow":
        return _Inverse(model.flow), d, f"z ~ N(0, 1)^{d} through the flow's inverse"
    if kind == "cfm":
        hp = model.hparams
        ode = _Ode(model.averaged, hp.solver, hp.steps)
        return ode, d, f"x0 ~ N(0, 1)^{d}, {hp.steps} {hp.solver} steps from t = 0 to 1"
    if kind == "bgmm":
        if len(model.mixture.weights) == 0:
            raise _unfitted(model, "Gaussian mixture")
        text = f"N(0, 1)^{d + 1}: Phi(last) picks the component, the rest its Gaussian"
        return _Mixture(model.mixture), d + 1, text
    msg = f"model type {kind!r} has no ONNX export"
    raise HepgenError(msg)


def noise_width(model: GeneratorModule) -> int:
    """The width k of the ``noise`` input of ``model``'s exported graph."""
    return sampler(model)[1]


# --- the per-feature inverse chains ---------------------------------------------------------


def _step_inverse(step: Elementary, y: Tensor) -> Tensor:
    """The inverse of one fitted elementary transform on a float32 column (batch,)."""
    if isinstance(step, Log | Standard | MinMax | Logit):
        return step.inverse_tensor(y)
    if isinstance(step, Quantile):
        refs, values = np.asarray(step.references), torch.tensor(step.values, dtype=y.dtype)
        p = _phi(y)
        if np.allclose(refs, np.linspace(0.0, 1.0, len(refs)), rtol=0.0, atol=1e-12):
            return _interpolate(values, p)  # as fitted: evenly spaced probabilities
        refs = torch.tensor(refs, dtype=y.dtype)  # np.interp on uneven references
        right = _count_at_most(refs, p).clamp(1, len(refs) - 1)
        x0, x1 = refs.gather(0, right - 1), refs.gather(0, right)
        f0, f1 = values.gather(0, right - 1), values.gather(0, right)
        t = ((p - x0) / (x1 - x0).clamp_min(torch.finfo(y.dtype).tiny)).clamp(0.0, 1.0)
        return f0 + t * (f1 - f0)
    if isinstance(step, Discrete):
        values = torch.tensor(step.values, dtype=y.dtype)
        return values.gather(0, y.round().clamp(0, len(values) - 1).to(torch.int64))
    msg = f"transform step {step.name!r} has no ONNX inverse"
    raise HepgenError(msg)


class _Physical(nn.Module):
    """Events (batch, d) in transformed space -> the physical columns (batch, c), float32."""

    def __init__(self, transform: Any, names: Sequence[str] | None = None) -> None:
        super().__init__()
        self.transform = transform
        self.names = list(transform.features if names is None else names)

    def forward(self, events: Tensor) -> Tensor:
        t, columns = self.transform, []
        index = {f: j for j, f in enumerate(self.names)}
        for column in t.columns:
            if column in t.constants:
                columns.append(torch.full_like(events[:, 0], t.constants[column]))
                continue
            y = events[:, index[column]]
            for step in reversed(t.chains[column]):
                y = _step_inverse(step, y)
            columns.append(y)
        return torch.stack(columns, dim=1)


class _Exported(nn.Module):
    """noise -> events, and the physical columns when a transform is given."""

    def __init__(self, net: nn.Module, physical: _Physical | None) -> None:
        super().__init__()
        self.net, self.physical = net, physical

    def forward(
        self, noise: Tensor, condition: Tensor | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        events = self.net(noise) if condition is None else self.net(noise, condition)
        if self.physical is None:
            return events
        return events, self.physical(events)


def physical_reason(transform: Any) -> str | None:
    """Why the chains of ``transform`` cannot be appended to the graph, or ``None`` if they can."""
    if transform.representation is not None:
        return "its event representation (four-vectors, systems) is inverted outside the graph"
    if transform.phi is not None:
        return "its relative azimuths need a drawn reference angle, added outside the graph"
    return None


def export_model(
    model: GeneratorModule,
    path: str | os.PathLike,
    *,
    opset: int = 18,
    transform: Any = None,
    features: Sequence[str] | None = None,
    codes: bool = False,
) -> ExportInfo:
    """Write the sampling network of ``model`` to the ONNX file ``path``.

    Arguments:
        model: a trained generator (any device; exported on the CPU in float32).
        path: the ``.onnx`` file, written atomically (protobuf limit: 2 GiB).
        opset: the ONNX opset version.
        transform: a fitted :class:`~hepgen.preprocessing.Transform` whose per-feature chains
            become the output ``physical`` (refused when :func:`physical_reason` gives one).
        features: names of the d columns of ``events``; default ``f0``, ``f1``, ...
        codes: VAE types only: export the decoder alone, input ``codes`` (batch, latent).

    A conditional model (``model.conditions`` = k > 0) gets the second input ``condition``
    (batch, k) in transformed space (module docstring); ``features`` then name its inputs, the
    conditions last, and ``transform``'s features must be among them.

    Returns:
        What the file computes (also stored in its metadata, keys ``hepgen.*``).
    """
    _require()
    names = list(features) if features is not None else [f"f{j}" for j in range(model.features)]
    if len(names) != model.features:
        msg = f"{len(names)} feature names for a model of {model.features} features"
        raise HepgenError(msg)
    net, width, law = sampler(copy.deepcopy(model).cpu().float().eval(), codes=codes)
    physical = None
    outputs = {"events": names}
    if transform is not None:
        reason = physical_reason(transform)
        if reason is not None:
            raise HepgenError(f"the transform cannot be exported: {reason}")
        if getattr(model, "conditions", 0):  # the inputs: generated features, then conditions
            fits = set(transform.features) <= set(names)
        else:
            fits = list(transform.features) == names
        if not fits:
            msg = f"the transform's features {transform.features} differ from the model's {names}"
            raise HepgenError(msg)
        physical = _Physical(transform, names)
        outputs["physical"] = list(transform.columns)
    input_name = "codes" if codes else "noise"
    k = getattr(model, "conditions", 0)
    inputs = {input_name: width} | ({"condition": k} if k else {})
    info = ExportInfo(model.model_type, inputs, outputs, law, opset)
    info.metadata = {
        "hepgen.model_type": model.model_type,
        "hepgen.input": json.dumps({"name": input_name, "width": width, "law": law}),
        "hepgen.outputs": json.dumps(outputs),
    }
    if k:
        info.metadata["hepgen.condition"] = json.dumps(
            {"name": "condition", "width": k, "columns": names[len(names) - k :]}
        )
    module = _Exported(net, physical).eval()
    rng = torch.Generator().manual_seed(0)
    examples = tuple(torch.randn(3, w, generator=rng) for w in inputs.values())
    batch = torch.export.Dim("batch", min=1)
    # differentiable ops only (no C kernels, no out=); the exporter's own deprecation
    # notices about torch internals are not the caller's concern
    with torch_only(), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        # noise and condition share the batch dimension on purpose
        warnings.filterwarnings("ignore", "# The axis name: batch will not be used", UserWarning)
        program = torch.onnx.export(
            module,
            examples,
            input_names=list(inputs),
            output_names=list(outputs),
            opset_version=opset,
            dynamo=True,
            dynamic_shapes=tuple({0: batch} for _ in inputs),
            external_data=False,
            verbose=False,
        )
    program.model.metadata_props.update(info.metadata)
    program.model.doc_string = f"hepgen {model.model_type}: {input_name} = {law}"
    with atomic_path(path) as tmp:
        program.save(os.fspath(tmp), external_data=False)
    log.info("wrote the %s sampling network to %s (%s)", model.model_type, path, law)
    return info


def export_onnx(generator: Any, path: str | os.PathLike) -> None:
    """Export a trained generator to ONNX: ``noise`` -> ``events`` (and ``physical``).

    The output ``physical`` is added when the generator's transform allows it (see the module
    docstring); otherwise the file holds ``events`` in transformed space only, and the log
    says why. A conditional generator's graph also takes ``condition`` (batch, k), the
    condition rows in transformed space: ``generator.conditioning.encode(table)`` of a table
    in physical units.

    Arguments:
        generator: an object with ``.model`` (a trained generator), ``.transform`` (a fitted
            transform or ``None``) and ``.features`` (the d input names, conditions last).
        path: the ``.onnx`` file.
    """
    if getattr(generator, "reweighter", None) is not None:
        log.warning(
            "the graph holds the network only: the refine classifier's event weights are not "
            "part of it (hepgen sample and load_generator give them)"
        )
    transform = generator.transform
    if transform is not None and (reason := physical_reason(transform)) is not None:
        log.info("the ONNX file gives transformed-space events only: %s", reason)
        transform = None
    export_model(generator.model, path, transform=transform, features=generator.features)
