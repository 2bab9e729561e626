"""One epoch of the shared loop, the validation pass, the divergence check and the schedules."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule
from hepgen.models.step import StepContext
from hepgen.training.state import Progress, StopSignal

__all__ = [
    "autocast_for",
    "raise_if_diverged",
    "run_epoch",
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
    model.train()
    cursor = progress.cursor
    if cursor is not None and cursor["epoch"] == epoch:
        perm, start, count = cursor["perm"], cursor["next"], cursor["count"]
        sums = {k: v.to(data.device) for k, v in cursor["sums"].items()}
    else:
        perm, start, sums, count = torch.randperm(len(data), generator=order), 0, {}, 0
    progress.cursor = None
    index = perm.to(data.device)
    for lo in range(start, len(data), batch_size):
        batch = index[lo : lo + batch_size]
        xb, wb = data[batch], None if weights is None else weights[batch]
        ctx.step = progress.step
        parts = model.train_step(xb, wb, optimizers, ctx)
        progress.step += 1
        if not sums:
            sums = {key: torch.zeros((), device=data.device) for key in parts}
        # one kernel call for all parts (parts are float32 scalars, or are cast)
        torch._foreach_add_(
            list(sums.values()), [v.detach().float() for v in parts.values()], alpha=len(xb)
        )
        count += len(xb)
        if callback is not None:
            callback(epoch, lo // batch_size)
        if stop.received and lo + batch_size < len(data):
            sums = {k: v.cpu() for k, v in sums.items()}
            nxt = lo + batch_size
            progress.cursor = {
                "epoch": epoch,
                "perm": perm,
                "next": nxt,
                "sums": sums,
                "count": count,
            }
            return None
    return {key: value.item() / count for key, value in sums.items()}
