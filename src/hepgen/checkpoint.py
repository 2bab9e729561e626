"""Model checkpoints: tensors and plain values only, loadable with ``weights_only=True``."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from hepgen.devices import pick_device
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.models import GeneratorModule, build, params_dict, parse_params

__all__ = ["FORMAT", "VERSION", "load_checkpoint", "save_checkpoint"]

log = logging.getLogger(__name__)

FORMAT = "hepgen-checkpoint"
"""Value of the ``format`` key of every checkpoint."""
VERSION = 1
"""Layout version of the checkpoint dict."""

_KEYS = ("format", "version", "type", "params", "features", "state_dict")


def _plain(value: Any, where: str) -> Any:
    """Return ``value`` with NumPy scalars, subclasses of builtins and tuples made plain."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, torch.Tensor):
        return value
    for kind in (bool, int, float, str):  # subclasses (e.g. torch.__version__) pickle as classes
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    msg = f"checkpoint entry {where} is a {type(value).__name__}; only tensors and plain values"
    raise HepgenError(msg)


def save_checkpoint(
    path: str | os.PathLike,
    model: GeneratorModule,
    *,
    type: str,
    params: Mapping[str, Any] | None,
    features: Sequence[str],
    training: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> None:
    """Write ``model`` and what rebuilds it to ``path`` atomically.

    The file holds one dict: ``format``, ``version``, ``type``, ``params`` (all hyperparameters,
    defaults filled in), ``features`` (column names in transformed-space order),
    ``state_dict`` (CPU tensors), ``training`` (loop options), ``history`` (one row per epoch),
    ``extra`` (e.g. ``provenance``) and, for a conditional model, ``condition``
    (:meth:`hepgen.preprocessing.condition.Conditioning.to_dict`).

    Arguments:
        path: output file, conventionally ``model.pt``.
        model: the trained model.
        type: its registered model type.
        params: its config hyperparameters.
        features: feature names, one per model input.
        training: the training options used.
        history: the rows returned by ``fit``.
        extra: further plain values, e.g. ``{"provenance": ...}``.
        condition: the conditioning of a conditional model: its ``columns`` are the model's
            last inputs.
    """
    resolved = parse_params(type, params)
    if type != model.model_type or resolved != model.hparams:
        msg = (
            f"checkpoint {path}: the model is type {model.model_type!r} with {model.hparams}, "
            f"but type {type!r} with {resolved} was given"
        )
        raise HepgenError(msg)
    if len(features) != model.features:
        msg = f"checkpoint {path}: {len(features)} feature names for a model of {model.features}"
        raise HepgenError(msg)
    columns = list((condition or {}).get("columns", []))
    if (
        len(columns) != model.conditions
        or list(features[len(features) - len(columns) :]) != columns
    ):
        msg = (
            f"checkpoint {path}: the model has {model.conditions} condition inputs, but the "
            f"conditions {columns} are not the last of its inputs {list(features)}"
        )
        raise HepgenError(msg)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "type": type,
        "params": params_dict(model),
        "features": [str(name) for name in features],
        "training": _plain(training, "training"),
        "history": _plain(history, "history"),
        "extra": _plain(extra or {}, "extra"),
        "condition": _plain(condition, "condition") if columns else None,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    log.info("wrote %s checkpoint %s", type, path)


def load_checkpoint(
    path: str | os.PathLike, *, device: str = "cpu"
) -> tuple[GeneratorModule, dict[str, Any]]:
    """Rebuild a model from a checkpoint written by :func:`save_checkpoint`.

    Only tensors and plain values are unpickled (``weights_only=True``); a file that needs
    anything else is refused.

    Arguments:
        path: the checkpoint file.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.

    Returns:
        The model in eval mode on ``device``, and the checkpoint's other entries.
    """
    device = pick_device(device)
    try:
        payload = torch.load(path, weights_only=True, map_location=device)
    except FileNotFoundError as err:
        msg = f"checkpoint {path} does not exist"
        raise HepgenError(msg) from err
    except Exception as err:
        msg = f"checkpoint {path} cannot be loaded with weights_only=True (refused): {err}"
        raise HepgenError(msg) from err
    missing = [key for key in _KEYS if not isinstance(payload, dict) or key not in payload]
    if missing or payload["format"] != FORMAT:
        msg = f"checkpoint {path} is not a {FORMAT} (missing keys {missing})"
        raise HepgenError(msg)
    if payload["version"] != VERSION:
        msg = f"checkpoint {path} has layout version {payload['version']}, expected {VERSION}"
        raise HepgenError(msg)
    condition = payload.get("condition") or {}
    model = build(
        payload["type"],
        len(payload["features"]),
        payload["params"],
        conditions=len(condition.get("columns", [])),
    )
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        msg = f"checkpoint {path}: its state dict does not fit type {payload['type']!r}: {err}"
        raise HepgenError(msg) from err
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    return model.to(device).eval(), meta
