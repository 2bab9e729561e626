"""Generator models and the registry that maps config ``type`` names to them."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hepgen.errors import HepgenError, positive_int
from hepgen.models.params import PARAMS, ModelParams
from hepgen.seeds import derive_seed

if TYPE_CHECKING:
    from hepgen.models.base import EventGenerator, GeneratorModule

__all__ = [
    "CONDITIONAL_TYPES",
    "PARAMS",
    "PHYSICS_LOSS_TYPES",
    "REGISTRY",
    "EventGenerator",
    "GeneratorModule",
    "ModelParams",
    "available",
    "build",
    "check_condition",
    "params_dict",
    "parse_params",
    "validate",
]

#: Config ``type`` name → (module, class) of the model; modules load on first use, so that
#: checking a config (:func:`validate`) needs neither torch nor scikit-learn.
_CLASSES = {
    "vae": ("vae", "VAE"),
    "bvae": ("vae", "BVAE"),
    "avae": ("vae", "AlphaVAE"),
    "vae_bgmm": ("bgmm", "VAEBGMM"),
    "avae_bgmm": ("bgmm", "AlphaVAEBGMM"),
    "bgmm": ("bgmm", "BGMM"),
    "gan": ("gan", "GAN"),
    "flow": ("flow", "Flow"),
    "cfm": ("cfm", "CFM"),
    "vae_d": ("vae_d", "VAED"),
    "vae_nf": ("vae_nf", "VAENF"),
    "vae_nf_d": ("vae_nf", "VAENFD"),
    "copula_vae": ("copula", "CopulaVAE"),
    "copula_vae_d": ("copula", "CopulaVAED"),
}


#: Types whose training can add a loss on physical quantities of their generated batch (a model
#: entry's ``mmd``): they generate in one pass from a fixed prior (``takes_physics_loss``).
PHYSICS_LOSS_TYPES = frozenset({"avae", "gan", "vae"})

#: Types that learn p(features | condition) when a model entry names ``condition`` columns.
CONDITIONAL_TYPES = frozenset({"avae", "cfm", "flow", "vae"})


def __getattr__(name: str) -> Any:
    if name == "REGISTRY":
        return {type: _model_class(type) for type in _CLASSES}
    if name in {"EventGenerator", "GeneratorModule"}:
        return getattr(importlib.import_module("hepgen.models.base"), name)
    msg = f"module 'hepgen.models' has no attribute {name!r}"
    raise AttributeError(msg)


def available() -> list[str]:
    """The registered model types, sorted."""
    return sorted(_CLASSES)


def _check_type(type: str) -> None:
    if type not in _CLASSES:
        msg = f"unknown model type {type!r}; known types are {available()}"
        raise HepgenError(msg)


def _model_class(type: str) -> type[GeneratorModule]:
    _check_type(type)
    module, name = _CLASSES[type]
    return getattr(importlib.import_module(f"hepgen.models.{module}"), name)


def parse_params(type: str, params: Mapping[str, Any] | None) -> ModelParams:
    """Check a model's config ``params`` and fill in the defaults.

    Arguments:
        type: a registered model type (config key ``models[].type``).
        params: hyperparameters (config key ``models[].params``); ``None`` for the defaults.

    Returns:
        The frozen hyperparameter dataclass of that model type.
    """
    if params is not None and not isinstance(params, Mapping):
        msg = f"model type {type!r}: params must be a mapping, found {params!r}"
        raise HepgenError(msg)
    _check_type(type)
    return PARAMS[type].from_dict(params)


def validate(type: str, params: Mapping[str, Any] | None) -> None:
    """Raise :class:`~hepgen.devices.HepgenError` for an unknown type or a bad hyperparameter.

    Cheap (builds no network), so the workflow can call it while it parses the config.

    Arguments:
        type: the model type.
        params: its hyperparameters.
    """
    parse_params(type, params)


def check_condition(type: str, condition: Any) -> list[str]:
    """The condition columns of a model entry, checked: a list of distinct names that only a
    type of :data:`CONDITIONAL_TYPES` accepts (config key ``models[].condition``)."""
    if condition is None:
        return []
    if not isinstance(condition, list) or not all(isinstance(c, str) for c in condition):
        msg = f"key 'condition' must be a list of column names, found {condition!r}"
        raise HepgenError(msg)
    if len(set(condition)) != len(condition):
        msg = f"key 'condition' names a column twice: {condition}"
        raise HepgenError(msg)
    if condition and type not in CONDITIONAL_TYPES:
        msg = (
            f"key 'condition' {condition}: model type {type!r} cannot be conditioned; the "
            f"types that can are {sorted(CONDITIONAL_TYPES)}"
        )
        raise HepgenError(msg)
    return list(condition)


def build(
    type: str,
    features: int,
    params: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    conditions: int = 0,
) -> GeneratorModule:
    """Construct a model with deterministically initialised weights.

    Arguments:
        type: the model type.
        features: number of inputs d (generated features and conditions).
        params: hyperparameters; missing keys take the defaults.
        seed: seeds the weight initialisation (the global torch RNG is left untouched).
        conditions: how many of the d inputs (the last) are condition columns; only the
            types of :data:`CONDITIONAL_TYPES` take them.

    Returns:
        The model, on CPU.
    """
    cls = _model_class(type)
    hparams = parse_params(type, params)
    positive_int(features, f"model type {type!r}: features")
    if conditions:
        check_condition(type, [f"c{i}" for i in range(conditions)])
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        if conditions:
            return cls(features, hparams, conditions)
        return cls(features, hparams)


def params_dict(model: GeneratorModule) -> dict[str, Any]:
    """The hyperparameters of ``model`` as a plain dict (for checkpoints and logs)."""
    return dataclasses.asdict(model.hparams)
