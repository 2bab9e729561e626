"""Generator models and the registry that maps config ``type`` names to them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch

from hepgen.models.base import EventGenerator, GeneratorModule, ModelParams
from hepgen.models.bgmm import BGMM, VAEBGMM
from hepgen.models.copula import CopulaVAE, CopulaVAED
from hepgen.models.flow import Flow
from hepgen.models.gan import GAN
from hepgen.models.vae import BVAE, VAE, AlphaVAE
from hepgen.models.vae_d import VAED
from hepgen.models.vae_nf import VAENF, VAENFD
from hepgen.runtime import HepgenError

__all__ = [
    "REGISTRY",
    "EventGenerator",
    "GeneratorModule",
    "ModelParams",
    "available",
    "build",
    "params_dict",
    "parse_params",
    "validate",
]

REGISTRY: dict[str, type[GeneratorModule]] = {
    cls.model_type: cls
    for cls in (
        VAE,
        BVAE,
        AlphaVAE,
        VAEBGMM,
        BGMM,
        GAN,
        Flow,
        VAED,
        VAENF,
        VAENFD,
        CopulaVAE,
        CopulaVAED,
    )
}
"""Config ``type`` name → model class."""


def available() -> list[str]:
    """The registered model types, sorted."""
    return sorted(REGISTRY)


def _model_class(type: str) -> type[GeneratorModule]:
    if type not in REGISTRY:
        msg = f"unknown model type {type!r}; known types are {available()}"
        raise HepgenError(msg)
    return REGISTRY[type]


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
    return _model_class(type).params_type.from_dict(params)


def validate(type: str, params: Mapping[str, Any] | None) -> None:
    """Raise :class:`~hepgen.runtime.HepgenError` for an unknown type or a bad hyperparameter.

    Cheap (builds no network), so the workflow can call it while it parses the config.

    Arguments:
        type: the model type.
        params: its hyperparameters.
    """
    parse_params(type, params)


def build(
    type: str, features: int, params: Mapping[str, Any] | None = None, *, seed: int = 0
) -> GeneratorModule:
    """Construct a model with deterministically initialised weights.

    Arguments:
        type: the model type.
        features: number of event features d.
        params: hyperparameters; missing keys take the defaults.
        seed: seeds the weight initialisation (the global torch RNG is left untouched).

    Returns:
        The model, on CPU.
    """
    cls = _model_class(type)
    hparams = parse_params(type, params)
    if isinstance(features, bool) or not isinstance(features, int) or features < 1:
        msg = f"model type {type!r}: features must be a positive integer, found {features!r}"
        raise HepgenError(msg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(features, hparams)


def params_dict(model: GeneratorModule) -> dict[str, Any]:
    """The hyperparameters of ``model`` as a plain dict (for checkpoints and logs)."""
    return dataclasses.asdict(model.hparams)
