"""The generator protocol, the base class of the torch models and their option checks."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn

from hepgen.runtime import HepgenError

if TYPE_CHECKING:
    from hepgen.training import Criterion, TrainConfig

__all__ = [
    "EventGenerator",
    "GeneratorModule",
    "ModelParams",
    "check_fields",
    "options_from_dict",
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


@runtime_checkable
class EventGenerator(Protocol):
    """What the workflow needs from a generator: fit on events, sample events, (de)serialise.

    Events live in the transformed space of :class:`hepgen.preprocessing.Transform`:
    float32 arrays of shape (n, d) with d the number of features.
    """

    model_type: str
    features: int

    def fit(
        self,
        train: np.ndarray,
        val: np.ndarray,
        config: TrainConfig,
        *,
        weights: np.ndarray | None = None,
    ) -> list[dict[str, float]]:
        """Train on ``train`` (n, d), select on ``val`` (m, d); return one history row per epoch."""
        ...

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), on the model's device, from ``generator``."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any: ...


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


class GeneratorModule(nn.Module):
    """Base class of the torch generators: ``fit`` runs the shared loop of :mod:`hepgen.training`.

    Subclasses set ``model_type`` and ``params_type`` and implement ``loss`` and ``sample``;
    ``after_fit`` may store what sampling needs from the training set.
    """

    model_type: ClassVar[str] = "model"
    params_type: ClassVar[type[ModelParams]] = ModelParams

    def __init__(self, features: int, params: ModelParams) -> None:
        super().__init__()
        self.features = features
        self.hparams = params

    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return next(self.parameters()).device

    def fit(
        self,
        train: np.ndarray,
        val: np.ndarray,
        config: TrainConfig,
        *,
        weights: np.ndarray | None = None,
        val_weights: np.ndarray | None = None,
        criterion: Criterion | None = None,
    ) -> list[dict[str, float]]:
        """Train with :func:`hepgen.training.train_model`, then call :meth:`after_fit`.

        Arguments:
            train: transformed training events, float32, shape (n, d).
            val: transformed validation events, float32, shape (m, d).
            config: the loop options.
            weights: per-event training weights, shape (n,).
            val_weights: per-event validation weights, shape (m,).
            criterion: epoch score, lower is better (default: validation loss).

        Returns:
            The history, one row per epoch.
        """
        from hepgen.training import train_model, validation_loss  # the loop trains this class

        criterion = criterion or validation_loss
        history = train_model(
            self, train, val, config, weights=weights, val_weights=val_weights, criterion=criterion
        )
        self.eval()
        with torch.no_grad():
            self.after_fit(torch.as_tensor(train, dtype=torch.float32, device=self.device))
        return history

    def loss(
        self, x: Tensor, *, weights: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Return ``{"loss": scalar, <part>: scalar, ...}`` for a batch ``x`` of shape (n, d)."""
        raise NotImplementedError

    def after_fit(self, train: Tensor) -> None:
        """Hook run on the training events (n, d) once the best epoch is restored."""

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space."""
        raise NotImplementedError
