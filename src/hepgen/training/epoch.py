"""One epoch of the shared loop (in memory or streamed), validation, divergence check, schedules."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule
from hepgen.models.step import StepContext
from hepgen.training.state import Progress, StopSignal
from hepgen.training.stream import EventStream

__all__ = [
    "autocast_for",
    "raise_if_diverged",
    "run_epoch",
    "run_stream_epoch",
    "scheduler_for",
    "step_schedulers",
    "validation_losses",
]


def autocast_for(device: str, amp: bool) -> tuple[torch.dtype | None, torch.amp.GradScaler | None]:
    """Autocast dtype and gradient scaler: bf16 where supported, else fp16 with scaling; CPU none."""
    if device != "cuda" or not amp:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def scheduler_for(optimizer: torch.optim.Optimizer, schedule: str, epochs: int) -> Any:
    """The learning-rate scheduler of ``schedule`` (``cosine``, ``plateau``) or ``None``."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=10)
    return None


def step_schedulers(schedulers: Mapping[str, Any], val_loss: float) -> None:
    """Step every scheduler once at the end of an epoch.

    A player that took no step yet in the run (a generator updated every ``d_steps``
    batches, with fewer batches in the first epoch) follows the same epoch schedule.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step", UserWarning)
        for scheduler in schedulers.values():
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(val_loss)
            elif scheduler is not None:
                scheduler.step()


def validation_losses(
    model: GeneratorModule,
    x: Tensor,
    *,
    batch_size: int,
    seed: int,
    weights: Tensor | None = None,
    dtype: torch.dtype | None = None,
) -> dict[str, float]:
    """Mean loss parts of ``model`` on ``x`` with fixed noise, in eval mode and without gradients.

    Arguments:
        model: the model.
        x: events, shape (n, d), on the model's device.
        batch_size: events per forward pass.
        seed: seeds the noise, so that epochs are compared on equal terms.
        weights: per-event weights normalised to mean 1, shape (n,).
        dtype: autocast dtype on CUDA, or ``None``.

    Returns:
        ``{"loss": ..., <part>: ...}`` averaged over the events.
    """
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    precision = StepContext(x.device.type, dtype, None, generator)
    sums: dict[str, Tensor] = {}
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            wb = None if weights is None else weights[start : start + batch_size]
            with precision.autocast():
                parts = model.loss(xb, weights=wb, generator=generator)
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value.float() * len(xb)
    return {key: value.item() / len(x) for key, value in sums.items()}


def raise_if_diverged(
    values: Mapping[str, float], where: str, model: GeneratorModule, lr: float
) -> None:
    """Raise when a loss part is NaN/inf or beyond the model's limit (e.g. an exploding critic).

    Arguments:
        values: loss parts (and other finite-by-design history values).
        where: e.g. ``"epoch 7"``, for the message.
        model: the model; its ``limits`` map part names to bounds on their absolute value.
        lr: the current learning rate, for the message.
    """
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    why = "not finite"
    if not bad:
        bad = [k for k, limit in model.limits.items() if abs(values.get(k, 0.0)) > limit]
        why = "beyond " + ", ".join(f"|{k}| <= {model.limits[k]:g}" for k in bad)
    if bad:
        msg = (
            f"training of model type {model.model_type!r} diverged at {where}: "
            f"{', '.join(f'{k} = {values[k]:.6g}' for k in bad)} ({why}); this epoch was not saved; "
            f"lower the learning rate (training.lr = {lr:g}) or check the transformed inputs"
        )
        raise HepgenError(msg)


def run_epoch(
    model: GeneratorModule,
    data: Tensor,
    weights: Tensor | None,
    optimizers: Mapping[str, torch.optim.Optimizer],
    ctx: StepContext,
    *,
    epoch: int,
    batch_size: int,
    order: torch.Generator,
    progress: Progress,
    stop: StopSignal,
    callback: Callable[[int, int], None] | None = None,
) -> dict[str, float] | None:
    """One pass over ``data`` (n, d) in a seeded random order, or the rest of an interrupted one.

    Arguments:
        model: the model (put in train mode).
        data: training events on the device, shape (n, d).
        weights: their normalised weights, shape (n,), or ``None``.
        optimizers: the model's optimisers.
        ctx: precision, scaler and noise; its ``step`` counts batches.
        epoch: this epoch's number (from 1).
        batch_size: events per step; the last batch may be smaller.
        order: seeds the permutation of the events.
        progress: its ``cursor`` resumes an interrupted epoch; it receives the cursor when
            ``stop`` fires, and ``step`` is advanced.
        stop: checked after every step.
        callback: called with (epoch, batch index) after every step.

    Returns:
        The mean loss parts over the epoch, or ``None`` when interrupted (cursor saved).
    """
    cursor = _resumed(progress, epoch)
    perm = cursor["perm"] if cursor else torch.randperm(len(data), generator=order)
    start = cursor["next"] if cursor else 0
    index = perm.to(data.device)[start:]
    batches = ((data[b], None if weights is None else weights[b]) for b in index.split(batch_size))
    epoch_of = Epoch(epoch, len(data), batch_size, {"perm": perm})
    return train_batches(
        model, batches, optimizers, ctx, epoch_of, cursor, progress, stop, callback
    )


def run_stream_epoch(
    model: GeneratorModule,
    stream: EventStream,
    optimizers: Mapping[str, torch.optim.Optimizer],
    ctx: StepContext,
    *,
    epoch: int,
    batch_size: int,
    seed: int,
    progress: Progress,
    stop: StopSignal,
    callback: Callable[[int, int], None] | None = None,
) -> dict[str, float] | None:
    """:func:`run_epoch` over a :class:`~hepgen.training.stream.EventStream` of the training split.

    The epoch's order is a function of ``seed`` alone (one seed per epoch), so an interrupted
    epoch resumes by replaying the stream and skipping the events already trained on.

    Arguments:
        stream: the training events, read row group by row group.
        seed: the epoch's order seed.
        model, optimizers, ctx, epoch, batch_size, progress, stop, callback: as
            :func:`run_epoch`.
    """
    cursor = _resumed(progress, epoch)
    start = cursor["next"] if cursor else 0
    device = ctx.device
    batches = (
        (torch.from_numpy(x).to(device), None if w is None else torch.from_numpy(w).to(device))
        for x, w in stream.batches(seed, batch_size, skip=start)
    )
    epoch_of = Epoch(epoch, stream.events, batch_size, {"seed": seed})
    return train_batches(
        model, batches, optimizers, ctx, epoch_of, cursor, progress, stop, callback
    )


@dataclass(frozen=True)
class Epoch:
    """One epoch's number, its event count, batch size and what its cursor keeps of its order."""

    number: int
    events: int
    batch_size: int
    order: dict[str, Any]


def _resumed(progress: Progress, epoch: int) -> dict[str, Any] | None:
    """The cursor of an interrupted ``epoch`` (consumed), or ``None``."""
    cursor, progress.cursor = progress.cursor, None
    return cursor if cursor is not None and cursor["epoch"] == epoch else None


def train_batches(
    model: GeneratorModule,
    batches: Iterable[tuple[Tensor, Tensor | None]],
    optimizers: Mapping[str, torch.optim.Optimizer],
    ctx: StepContext,
    epoch: Epoch,
    cursor: dict[str, Any] | None,
    progress: Progress,
    stop: StopSignal,
    callback: Callable[[int, int], None] | None,
) -> dict[str, float] | None:
    """Take one optimiser step per batch, summing the loss parts; stop (saving a cursor) on a signal.

    Arguments:
        batches: the rest of the epoch's batches, (events (b, d), weights (b,) or ``None``).
        epoch: the epoch; its ``order`` is stored in the cursor.
        cursor: the interrupted epoch's cursor (``next``, ``sums``, ``count``) or ``None``.
        model, optimizers, ctx, progress, stop, callback: as :func:`run_epoch`.
    """
    model.train()
    lo, sums, count = 0, {}, 0
    if cursor is not None:
        lo, count = cursor["next"], cursor["count"]
        sums = {k: v.to(ctx.generator.device) for k, v in cursor["sums"].items()}
    for xb, wb in batches:
        ctx.step = progress.step
        parts = model.train_step(xb, wb, optimizers, ctx)
        progress.step += 1
        if not sums:
            sums = {key: torch.zeros((), device=xb.device) for key in parts}
        # one kernel call for all parts (parts are float32 scalars, or are cast)
        torch._foreach_add_(
            list(sums.values()), [v.detach().float() for v in parts.values()], alpha=len(xb)
        )
        count += len(xb)
        if callback is not None:
            callback(epoch.number, lo // epoch.batch_size)
        lo += len(xb)
        if stop.received and lo < epoch.events:
            progress.cursor = {
                "epoch": epoch.number,
                **epoch.order,
                "next": lo,
                "sums": {k: v.cpu() for k, v in sums.items()},
                "count": count,
            }
            return None
    return {key: value.item() / count for key, value in sums.items()}
