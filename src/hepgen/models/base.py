"""The generator protocol, the base class of the torch models and their input checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn

from hepgen.errors import HepgenError
from hepgen.models.params import ModelParams, check_fields, options_from_dict
from hepgen.models.step import StepContext, adam

__all__ = [
    "CONDITION_POOL",
    "EventGenerator",
    "GeneratorModule",
    "ModelParams",
    "check_fields",
    "checked_events",
    "checked_weights",
    "options_from_dict",
    "sample_given",
]


def checked_events(x: np.ndarray, name: str, features: int, owner: str) -> np.ndarray:
    """Return ``x`` as float32 after checking its shape (n > 0, features) and finiteness.

    Arguments:
        x: transformed events, shape (n, d).
        name: ``"training"`` or ``"validation"``, for messages.
        features: the model's d.
        owner: e.g. ``"model type 'vae'"``, for messages.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != features or len(x) == 0:
        msg = f"{owner}: {name} set must have shape (n > 0, {features}), found {x.shape}"
        raise HepgenError(msg)
    bad = ~np.isfinite(x)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0)).tolist()
        msg = f"{owner}: {name} set has {int(bad.sum())} NaN/inf values in feature column(s) {cols}"
        raise HepgenError(msg)
    return x


def checked_weights(
    w: np.ndarray | None, n: int, name: str, owner: str, *, negative: bool
) -> np.ndarray | None:
    """Return per-event weights normalised to mean 1, or ``None`` for unit weights.

    Arguments:
        w: weights, shape (n,), or ``None``.
        n: number of events.
        name: ``"training"`` or ``"validation"``, for messages.
        owner: e.g. ``"model type 'flow'"``, for messages.
        negative: whether the model can use negative weights.

    Returns:
        float32 weights of shape (n,) with mean 1.
    """
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or w.sum() <= 0:
        msg = f"{owner}: {name} weights must be {n} finite values with a positive sum"
        raise HepgenError(msg + f", found shape {w.shape} and sum {w.sum()}")
    below = int(np.count_nonzero(w < 0))
    if below and not negative:
        msg = (
            f"{owner} cannot use negative event weights: {below} of {n} {name} events have "
            f"weight < 0; remove them or choose a model that can (e.g. type 'gan')"
        )
        raise HepgenError(msg)
    return (w / w.mean()).astype(np.float32)


@runtime_checkable
class EventGenerator(Protocol):
    """What sampling needs from a generator: draw events and (de)serialise its state.

    Events live in the transformed space of :class:`hepgen.preprocessing.Transform`:
    float32 arrays of shape (n, d) with d the number of features. A conditional model learns
    p(features | condition): its last ``conditions`` = k inputs are the condition columns
    (:class:`hepgen.preprocessing.condition.Conditioning`), and its ``sample`` takes the
    condition rows (n, k) and returns them after the n × (d − k) generated features. Fitting is
    not part of the protocol: :func:`hepgen.training.train_model` trains any
    :class:`GeneratorModule`.
    """

    model_type: str
    features: int

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), on the model's device, from ``generator``."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any: ...


class GeneratorModule(nn.Module):
    """Base class of the torch generators, trained by :func:`hepgen.training.train_model`.

    Subclasses set ``model_type`` and ``params_type`` and implement ``loss`` and ``sample``.
    Models with several players override ``optimizers`` and ``train_step``; models that
    sample from something derived from the training set (a buffer, a mixture) fill it in
    ``prepare_sampling``, which the loop calls before every sampled selection and at the end.
    """

    model_type: ClassVar[str] = "model"
    params_type: ClassVar[type[ModelParams]] = ModelParams
    negative_weights: ClassVar[bool] = False
    """Whether the training objective stays meaningful with negative event weights."""
    limits: ClassVar[Mapping[str, float]] = {}
    """History keys whose absolute value above the limit means the run diverged."""
    iterative: ClassVar[bool] = True
    """Trained epoch by epoch by the shared loop (False: fitted in one step by ``fit_events``)."""
    takes_physics_loss: ClassVar[bool] = False
    """Whether training adds :attr:`physics_loss` of its one-pass generated batch."""
    physics_loss: Callable[[Tensor, Tensor, Tensor | None], Tensor] | None = None
    """``(generated (n, d), real (m, d), real weights (m,) or None) -> scalar`` added to the
    generating player's loss, e.g. :class:`hepgen.training.mass_loss.MassMMD`; not saved."""

    def __init__(self, features: int, params: ModelParams, conditions: int = 0) -> None:
        super().__init__()
        if not 0 <= conditions < features:
            msg = (
                f"model type {self.model_type!r}: {conditions} condition columns need more "
                f"than {conditions} inputs in all, found {features}"
            )
            raise HepgenError(msg)
        self.features = features
        self.conditions = conditions
        self.hparams = params
        if conditions:
            self.register_buffer("condition_pool", torch.zeros(0, conditions))

    @property
    def generated(self) -> int:
        """The number of generated features: ``features`` less the ``conditions``."""
        return self.features - self.conditions

    def split_condition(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(generated (n, d - k), condition (n, k) or None)`` of inputs ``x`` (n, d).

        The condition columns are the last ``conditions`` inputs (``None`` without any).
        """
        if not self.conditions:
            return x, None
        return x[:, : self.generated], x[:, self.generated :]

    def condition_for(
        self, n: int, generator: torch.Generator, condition: Tensor | None
    ) -> Tensor | None:
        """The condition rows (n, k) of a draw of ``n`` events: ``condition`` checked, or, when
        it is ``None``, rows drawn at random from :attr:`condition_pool` (the training
        split's conditions, stored by :meth:`prepare_sampling`); ``None`` for an unconditional
        model."""
        owner = f"model type {self.model_type!r}"
        if not self.conditions:
            if condition is not None:
                raise HepgenError(f"{owner} has no condition columns, but conditions were given")
            return None
        if condition is not None:
            if tuple(condition.shape) != (n, self.conditions):
                msg = f"{owner}: conditions must have shape ({n}, {self.conditions}), found {tuple(condition.shape)}"
                raise HepgenError(msg)
            return condition.to(self.device, torch.float32)
        pool = self.condition_pool
        if not len(pool):
            msg = f"{owner} draws conditions from its training rows, but none are stored; give them"
            raise HepgenError(msg)
        index = torch.randint(len(pool), (n,), generator=generator, device=pool.device)
        return pool.index_select(0, index)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # the stored pool of training conditions has the size it was filled with
        stored = state_dict.get(prefix + "condition_pool")
        if self.conditions and isinstance(stored, Tensor):
            self.condition_pool = torch.empty_like(stored, device=self.condition_pool.device)
        super()._load_from_state_dict(state_dict, prefix, *args)

    @property
    def device(self) -> torch.device:
        """The device of the parameters (or buffers)."""
        for tensor in (*self.parameters(), *self.buffers()):
            return tensor.device
        return torch.device("cpu")

    def fit_events(self, train: np.ndarray, weights: np.ndarray | None, *, seed: int) -> None:
        """Fit in one step to the training events (models with ``iterative`` false only).

        Arguments:
            train: transformed training events, float32, shape (n, d), checked.
            weights: their weights normalised to mean 1, shape (n,), or ``None``.
            seed: seeds the fit.
        """
        msg = (
            f"model type {self.model_type!r} is trained by gradient descent, not fitted in one step"
        )
        raise NotImplementedError(msg)

    def optimizers(self, *, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """One Adam optimiser over all parameters (``training.lr``, ``training.weight_decay``)."""
        return {"model": adam(self.parameters(), lr=lr, weight_decay=weight_decay)}

    def train_step(
        self,
        x: Tensor,
        weights: Tensor | None,
        optimizers: Mapping[str, torch.optim.Optimizer],
        ctx: StepContext,
    ) -> dict[str, Tensor]:
        """One optimiser step on a batch ``x`` (n, d) with weights (n,); returns the loss parts.

        The noise is drawn first, so that the loss itself is a deterministic function of its
        tensors, which ``ctx`` may compile (``training.compile``).
        """
        noise = self.noise(x, ctx.generator)
        with ctx.autocast():
            parts = ctx.objective(self, len(x))(x, noise, weights=weights)
        ctx.update((parts["loss"], optimizers["model"]), norms=False)
        return parts

    def noise(self, x: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """The random draws the loss needs for a batch ``x`` (n, d), by name; none here."""
        return {}

    def loss(
        self, x: Tensor, *, weights: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Return ``{"loss": scalar, <part>: scalar, ...}`` for a batch ``x`` of shape (n, d).

        Arguments:
            x: events, shape (n, d).
            weights: per-event weights normalised to mean 1, shape (n,).
            generator: seeds the noise of the loss (see :meth:`noise`).
        """
        return self.loss_with_noise(x, self.noise(x, generator), weights=weights)

    def loss_with_noise(
        self, x: Tensor, noise: Mapping[str, Tensor], *, weights: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The loss parts of :meth:`loss` given the draws of :meth:`noise` for ``x``."""
        raise NotImplementedError

    def prepare_sampling(
        self, train: Tensor, weights: Tensor | None = None, *, seed: int = 0
    ) -> None:
        """Store what sampling needs from the training events (n, d) with weights (n,).

        A conditional model keeps at most :data:`CONDITION_POOL` of the training events'
        condition rows (a seeded uniform choice), from which it draws when no conditions are
        given; subclasses that override this call it.

        Arguments:
            train: transformed training events on the model's device, shape (n, d).
            weights: their normalised weights, shape (n,), or ``None``.
            seed: seeds any random part of the preparation (e.g. a mixture's initialisation).
        """
        if self.conditions:
            rows = train[:, self.generated :]
            if len(rows) > CONDITION_POOL:
                rng = torch.Generator(device="cpu").manual_seed(seed)
                rows = rows[
                    torch.randperm(len(rows), generator=rng)[:CONDITION_POOL].to(rows.device)
                ]
            self.condition_pool = rows.detach().float().clone()

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` events, shape (n, d), in transformed space.

        A conditional model also takes ``condition``, rows of shape (n, k) (see
        :meth:`condition_for`), and returns the generated features followed by them.
        """
        raise NotImplementedError


#: The most training condition rows a conditional model stores for unconditioned draws.
CONDITION_POOL = 100_000


def sample_given(
    model: EventGenerator, n: int, generator: torch.Generator, condition: Tensor | None = None
) -> Tensor:
    """``model.sample(n, generator)``, with ``condition`` (n, k) where the model has conditions."""
    if getattr(model, "conditions", 0):
        return model.sample(n, generator, condition=condition)
    if condition is not None:
        msg = f"model type {model.model_type!r} has no condition columns, but conditions were given"
        raise HepgenError(msg)
    return model.sample(n, generator)
