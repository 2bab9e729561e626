"""Hyperparameter dataclasses of every model type, importable without torch.

The workflow checks the ``params`` of every configured model while it parses its config; this
module lets it do so without loading torch or scikit-learn.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hepgen.errors import HepgenError

__all__ = [
    "PARAMS",
    "ModelParams",
    "check_fields",
    "options_from_dict",
    "VAEParams",
    "BVAEParams",
    "AlphaVAEParams",
    "BGMMParams",
    "VAEBGMMParams",
    "AlphaVAEBGMMParams",
    "GANParams",
    "FlowParams",
    "CFMParams",
    "AdversarialParams",
    "VAEDParams",
    "VAENFParams",
    "VAENFDParams",
    "CopulaVAEParams",
    "CopulaVAEDParams",
]

_KINDS = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}


def check_fields(options: Any, owner: str) -> None:
    """Check the type and range of every field of a frozen options dataclass.

    The field annotation (``int``, ``float``, ``bool``, ``str``) gives the type; the field
    metadata may give ``min``, ``gt`` (exclusive minimum), ``max`` and ``choices``. Integers
    given for ``float`` fields are converted.

    Arguments:
        options: a dataclass instance.
        owner: what the options belong to, for messages (e.g. ``"model type 'bvae'"``).
    """
    for spec in dataclasses.fields(options):
        key, value, meta = spec.name, getattr(options, spec.name), spec.metadata
        kind = str(spec.type)
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
        }[kind]
        if kind == "float" and ok:
            value = float(value)
            ok = math.isfinite(value)
            object.__setattr__(options, key, value)
        bad = not ok
        bad = bad or ("min" in meta and value < meta["min"])
        bad = bad or ("gt" in meta and value <= meta["gt"])
        bad = bad or ("max" in meta and value > meta["max"])
        bad = bad or ("choices" in meta and value not in meta["choices"])
        if bad:
            want = [_KINDS[kind]]
            want += [f">= {meta['min']}"] if "min" in meta else []
            want += [f"> {meta['gt']}"] if "gt" in meta else []
            want += [f"<= {meta['max']}"] if "max" in meta else []
            want += [f"one of {list(meta['choices'])}"] if "choices" in meta else []
            msg = f"{owner}: key {key!r} must be {' '.join(want)}, found {value!r}"
            raise HepgenError(msg)


def options_from_dict(cls: type, values: Mapping[str, Any] | None, owner: str) -> Any:
    """Build an options dataclass from a config mapping, refusing unknown keys.

    Arguments:
        cls: the dataclass (its ``__post_init__`` checks the values).
        values: the config mapping; ``None`` gives the defaults.
        owner: what the options belong to, for messages.

    Returns:
        The dataclass instance.
    """
    values = dict(values or {})
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        msg = f"{owner}: unknown key(s) {unknown}; known keys are {known}"
        raise HepgenError(msg)
    return cls(**values)


@dataclass(frozen=True)
class ModelParams:
    """Base of the frozen hyperparameter dataclass of each model type; checked on creation."""

    model_type: ClassVar[str] = "model"

    def __post_init__(self) -> None:
        check_fields(self, f"model type {self.model_type!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> ModelParams:
        """Build from a config ``params`` mapping, refusing unknown keys."""
        return options_from_dict(cls, values, f"model type {cls.model_type!r}")


@dataclass(frozen=True)
class VAEParams(ModelParams):
    """Hyperparameters of the naive beta-VAE (defaults: best ttbar setting of arXiv:1901.00875).

    Attributes:
        latent: latent dimension.
        hidden: width of the hidden layers of encoder and decoder.
        layers: hidden layers of encoder and decoder (the first plus residual blocks).
        beta: weight of the KL term in the loss ``(1 - beta) * MSE + beta * KL``.
    """

    model_type: ClassVar[str] = "vae"
    latent: int = field(default=20, metadata={"min": 1})
    hidden: int = field(default=128, metadata={"min": 1})
    layers: int = field(default=4, metadata={"min": 1})
    beta: float = field(default=1e-6, metadata={"min": 0.0, "max": 1.0})


@dataclass(frozen=True)
class BVAEParams(VAEParams):
    """Hyperparameters of the B-VAE: those of the VAE plus the buffer sampling widths.

    Attributes:
        alpha: scale of the encoder standard deviations when sampling from the buffer.
        gamma: extra width added to every latent standard deviation ("smudge").
    """

    model_type: ClassVar[str] = "bvae"
    alpha: float = field(default=1.0, metadata={"min": 0.0})
    gamma: float = field(default=0.05, metadata={"min": 0.0})


@dataclass(frozen=True)
class AlphaVAEParams(VAEParams):
    """Hyperparameters of the alpha-VAE: those of the VAE plus the encoding noise.

    Attributes:
        alpha: standard deviation of the fixed Gaussian noise N(0, alpha) added to the encoder
            means (Balanzá García scans 0.1, 0.2, 0.3 and keeps 0.2); on Drell-Yan 0.2 also
            sampled N(0, 1) best (classifier AUC - floor 0.17, against 0.19 and 0.26).
        beta: weight of the KL term, whose trainable part beta * mu^2 / 2 holds the codes'
            scale against alpha; 1e-2 against 1e-3 (AUC - floor 0.38) and 1e-1 (0.29).
    """

    model_type: ClassVar[str] = "avae"
    beta: float = field(default=1e-2, metadata={"min": 0.0, "max": 1.0})
    alpha: float = field(default=0.2, metadata={"gt": 0.0})


@dataclass(frozen=True)
class BGMMParams(ModelParams):
    """Hyperparameters of the mixture fitted on the transformed events.

    Attributes:
        components: upper bound on the mixture components.
        max_iter: variational EM iterations.
    """

    model_type: ClassVar[str] = "bgmm"
    components: int = field(default=20, metadata={"min": 1})
    max_iter: int = field(default=500, metadata={"min": 1})


@dataclass(frozen=True)
class VAEBGMMParams(VAEParams):
    """Hyperparameters of the beta-VAE with a mixture on its latent codes.

    Attributes:
        components: upper bound gamma on the mixture components.
        max_iter: variational EM iterations.
    """

    model_type: ClassVar[str] = "vae_bgmm"
    components: int = field(default=10, metadata={"min": 1})
    max_iter: int = field(default=200, metadata={"min": 1})


@dataclass(frozen=True)
class AlphaVAEBGMMParams(AlphaVAEParams, VAEBGMMParams):
    """Hyperparameters of the alpha-VAE with a mixture on its latent codes (Experiment III).

    Attributes:
        components: upper bound gamma on the mixture components (the study scans 10, 20, 50,
            100); on Drell-Yan with alpha = 0.2, 20 and 50 were no better than 10 and cost
            3 and 10 times its fit time (7 s on 9152 events).
        max_iter: variational EM iterations.
    """

    model_type: ClassVar[str] = "avae_bgmm"
    components: int = field(default=10, metadata={"min": 1})


@dataclass(frozen=True)
class GANParams(ModelParams):
    """Hyperparameters of the GAN.

    Attributes:
        latent: dimension of the generator's input (64 in Lebese's dilepton GAN).
        hidden: width of generator and discriminator.
        layers: hidden layers of each (the first plus residual ELU blocks).
        loss: ``"r1"`` (non-saturating GAN + R1 penalty at real events, arXiv:1801.04406),
            ``"roth"`` (non-saturating GAN + the regulariser of Roth et al., arXiv:1705.09367,
            at real and generated events, as written in Butter's lecture), ``"wgan-gp"``
            (arXiv:1704.00028) or ``"mse"`` (discriminator binary cross-entropy, generator
            mean squared error (D(G(z)) - 1)^2 of the probability, as in Lebese's GAN; with
            the R1 penalty, which ``penalty: 0`` turns off as in the study).
        penalty: weight of the gradient penalty: gamma of R1 (the penalty is gamma/2 |grad|^2,
            gamma = 10 in arXiv:1801.04406), lambda_D of Roth's regulariser or lambda of
            WGAN-GP (10 in arXiv:1704.00028).
        d_steps: discriminator updates per generator update (5 in arXiv:1704.00028).
        beta1: first Adam moment decay of both players (0.5 is common for GANs, 0 for WGAN-GP).
        beta2: second Adam moment decay of both players (0.9 as in arXiv:1704.00028; Lebese
            gives 0.5).
        prior: the generator's input: ``"normal"`` N(0, 1) or ``"uniform"`` U(0, 1) (Lebese).
        output: the generator's last activation: ``"linear"`` or ``"sigmoid"``, which keeps
            events inside (0, 1), the range of a ``minmax`` transform (Lebese scales the inputs
            to [0, 1]).
    """

    model_type: ClassVar[str] = "gan"
    latent: int = field(default=10, metadata={"min": 1})
    hidden: int = field(default=128, metadata={"min": 1})
    layers: int = field(default=3, metadata={"min": 1})
    loss: str = field(default="r1", metadata={"choices": ("r1", "roth", "wgan-gp", "mse")})
    penalty: float = field(default=10.0, metadata={"min": 0.0})
    d_steps: int = field(default=1, metadata={"min": 1})
    beta1: float = field(default=0.5, metadata={"min": 0.0, "max": 0.999})
    beta2: float = field(default=0.9, metadata={"min": 0.0, "max": 0.999})
    prior: str = field(default="normal", metadata={"choices": ("normal", "uniform")})
    output: str = field(default="linear", metadata={"choices": ("linear", "sigmoid")})


@dataclass(frozen=True)
class FlowParams(ModelParams):
    """Hyperparameters of the spline coupling flow.

    Attributes:
        transforms: coupling transforms (each transforms one half of the features).
        hidden: width of the conditioner networks.
        layers: hidden layers of each conditioner.
        bins: rational-quadratic spline bins on [-5, 5] (8 in arXiv:1906.04032's tabular runs).
    """

    model_type: ClassVar[str] = "flow"
    transforms: int = field(default=4, metadata={"min": 1})
    hidden: int = field(default=128, metadata={"min": 1})
    layers: int = field(default=2, metadata={"min": 1})
    bins: int = field(default=8, metadata={"min": 2})


@dataclass(frozen=True)
class CFMParams(ModelParams):
    """Hyperparameters of the conditional flow-matching generator.

    Attributes:
        hidden: width of the velocity network.
        layers: hidden layers of the velocity network (the first plus residual ELU blocks).
        frequencies: sine/cosine pairs of the time embedding (frequencies pi * 2^k).
        sigma_min: width of the probability path at t = 1 (0 is the straight path of
            rectified flow; arXiv:2210.02747 uses a small positive value).
        solver: fixed-step ODE solver of sampling: ``"euler"`` (1 network call per step),
            ``"midpoint"`` (2) or ``"rk4"`` (4).
        steps: solver steps from the Gaussian (t = 0) to the events (t = 1); on Drell-Yan
            8 midpoint steps (16 calls) gave the fidelity of 64 RK4 steps, on tt-bar all but
            the jet mass's (1.40 against 1.29 times its floor; 16 steps: 1.32), measured with
            ``bench/cfm_steps.py``.
        ema: decay of the exponential moving average of the weights used for sampling;
            0 samples with the trained weights (0.999 measured no better with the cosine
            schedule, which anneals the weights itself).
    """

    model_type: ClassVar[str] = "cfm"
    hidden: int = field(default=256, metadata={"min": 1})
    layers: int = field(default=4, metadata={"min": 1})
    frequencies: int = field(default=4, metadata={"min": 0})
    sigma_min: float = field(default=1e-4, metadata={"min": 0.0, "max": 0.5})
    solver: str = field(default="midpoint", metadata={"choices": ("euler", "midpoint", "rk4")})
    steps: int = field(default=8, metadata={"min": 1})
    ema: float = field(default=0.0, metadata={"min": 0.0, "max": 0.99999})


@dataclass(frozen=True)
class AdversarialParams(ModelParams):
    """The discriminator's hyperparameters, shared by every VAE+D variant (Stevenson (2022)).

    The defaults are Stevenson's Algorithm 2: the discriminator D learns real (label 1)
    against reconstructed and generated (label 0) events by binary cross-entropy,
    ``Loss_disc``; the decoder minimises ``gamma * Loss_recon - Loss_disc`` and the encoder
    ``KL + gamma * Loss_recon``, where ``Loss_recon`` compares D's outputs (probabilities) at
    each event and its reconstruction.

    Attributes:
        match: what ``Loss_recon`` compares: ``"output"`` (Algorithm 2: the squared difference
            of D's probabilities) or ``"features"`` (the mean squared difference of D's last
            hidden layer, the feature matching of Larsen et al., arXiv:1512.09300).
        gamma: weight of ``Loss_recon`` in the encoder and decoder losses.
        beta: weight of the KL term in the encoder loss (1 in Algorithm 2).
        adversarial: weight of ``-Loss_disc`` in the decoder loss (1 in Algorithm 2).
        mse: weight of the data-space MSE |x - x_rec|^2 added to the encoder and decoder
            losses; 0 (Algorithm 2) leaves the reconstruction to D.
        d_hidden: width of the discriminator.
        d_layers: hidden layers of the discriminator.
        penalty: R1 penalty weight at real events (arXiv:1801.04406); 0 (Algorithm 2) is off.
    """

    match: str = field(default="output", metadata={"choices": ("output", "features")})
    gamma: float = field(default=1.0, metadata={"min": 0.0})
    beta: float = field(default=1.0, metadata={"min": 0.0})
    adversarial: float = field(default=1.0, metadata={"min": 0.0})
    mse: float = field(default=0.0, metadata={"min": 0.0})
    d_hidden: int = field(default=128, metadata={"min": 1})
    d_layers: int = field(default=3, metadata={"min": 1})
    penalty: float = field(default=0.0, metadata={"min": 0.0})


@dataclass(frozen=True)
class VAEDParams(AdversarialParams, VAEParams):
    """Hyperparameters of VAE+D: those of the VAE and of the discriminator (``beta``: the latter's)."""

    model_type: ClassVar[str] = "vae_d"


@dataclass(frozen=True)
class VAENFParams(VAEParams):
    """Hyperparameters of VAE+NF: those of the beta-VAE and of the latent flow.

    The KL term is what fits the flow prior to the codes, so beta defaults to 1e-3: with the
    1e-6 of arXiv:1901.00875 the codes spread beyond the spline domain [-5, 5] and the prior
    misses them (classifier AUC 0.95 against 0.72 on the default Drell-Yan data).

    Attributes:
        beta: weight of the KL term (here log q(z|x) - log p_flow(z)).
        flow_transforms: coupling transforms of the prior flow.
        flow_hidden: width of its conditioners.
        flow_layers: hidden layers of each conditioner.
        flow_bins: spline bins on [-5, 5].
    """

    model_type: ClassVar[str] = "vae_nf"
    beta: float = field(default=1e-3, metadata={"min": 0.0, "max": 1.0})
    flow_transforms: int = field(default=3, metadata={"min": 1})
    flow_hidden: int = field(default=64, metadata={"min": 1})
    flow_layers: int = field(default=2, metadata={"min": 1})
    flow_bins: int = field(default=8, metadata={"min": 2})


@dataclass(frozen=True)
class VAENFDParams(AdversarialParams, VAENFParams):
    """Hyperparameters of VAE+NF+D: those of VAE+NF and of the discriminator.

    ``beta`` is the discriminator's (1, Algorithm 2's KL weight), not VAE+NF's 1e-3.
    """

    model_type: ClassVar[str] = "vae_nf_d"


@dataclass(frozen=True)
class CopulaVAEParams(VAEParams):
    """Hyperparameters of the copula VAE (Stevenson (2022)): a VAE on the latent cube U(0, 1)^k.

    Attributes:
        uniformity: weight of the sliced Wasserstein distance between the batch's codes
            Phi(mu) and uniform draws, which pushes the aggregate posterior to U(0, 1)^k.
        projections: random directions of that distance per batch, besides the k axes.
        phase: what a training step updates: ``"joint"`` (encoder and decoder on one loss),
            ``"separate"`` (both, each on its own loss: the encoder on the uniformity of its
            codes, the decoder on reconstructing the events from the detached codes),
            ``"encoder"`` or ``"decoder"`` (that player alone, on its separate loss; the
            other one has no optimiser and keeps its weights).
        knots: empirical quantiles per latent coordinate of the sampling copula.
    """

    model_type: ClassVar[str] = "copula_vae"
    uniformity: float = field(default=1.0, metadata={"min": 0.0})
    projections: int = field(default=16, metadata={"min": 0})
    phase: str = field(
        default="joint", metadata={"choices": ("joint", "separate", "encoder", "decoder")}
    )
    knots: int = field(default=1024, metadata={"min": 2})


@dataclass(frozen=True)
class CopulaVAEDParams(AdversarialParams, CopulaVAEParams):
    """Hyperparameters of the copula VAE+D: those of the copula VAE and of the discriminator.

    Attributes:
        phase: ``"joint"`` (Algorithm 2 with the uniformity in the encoder loss) or
            ``"separate"`` (the encoder learns the uniformity alone, the decoder Algorithm 2's
            decoder loss on the detached codes); the three players always step together.
    """

    model_type: ClassVar[str] = "copula_vae_d"
    phase: str = field(default="joint", metadata={"choices": ("joint", "separate")})


PARAMS: dict[str, type[ModelParams]] = {
    cls.model_type: cls
    for cls in (
        VAEParams,
        BVAEParams,
        AlphaVAEParams,
        BGMMParams,
        VAEBGMMParams,
        AlphaVAEBGMMParams,
        GANParams,
        FlowParams,
        CFMParams,
        VAEDParams,
        VAENFParams,
        VAENFDParams,
        CopulaVAEParams,
        CopulaVAEDParams,
    )
}
"""Config ``type`` name → hyperparameter dataclass."""
