"""Shared training loop: seeded in-memory batches, mixed precision on CUDA, best-epoch restore."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from hepgen.models.base import GeneratorModule, check_fields, options_from_dict
from hepgen.runtime import HepgenError, pick_device

__all__ = ["Criterion", "TrainConfig", "evaluate", "train_model", "validation_loss"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Options of the shared training loop (config key ``training``).

    Attributes:
        epochs: maximum number of passes over the training set.
        batch_size: events per optimiser step; must not exceed the training set.
        lr: Adam learning rate.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        seed: seeds the batch order and the reparametrisation noise.
        schedule: learning-rate schedule: ``"cosine"`` (to 0 over ``epochs``), ``"plateau"``
            (halve after 10 epochs without validation improvement) or ``"constant"``.
        patience: stop after this many epochs without improvement of the selection
            criterion; 0 trains all epochs.
        weight_decay: Adam L2 penalty.
        amp: mixed precision (bf16, or fp16 with gradient scaling) on CUDA; ignored on CPU.
    """

    epochs: int = field(default=150, metadata={"min": 1})
    batch_size: int = field(default=1024, metadata={"min": 1})
    lr: float = field(default=1e-3, metadata={"gt": 0.0})
    device: str = field(default="auto", metadata={"choices": ("auto", "cpu", "cuda")})
    seed: int = field(default=0, metadata={"min": 0})
    schedule: str = field(default="cosine", metadata={"choices": ("cosine", "plateau", "constant")})
    patience: int = field(default=0, metadata={"min": 0})
    weight_decay: float = field(default=0.0, metadata={"min": 0.0})
    amp: bool = True

    def __post_init__(self) -> None:
        check_fields(self, "training")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> TrainConfig:
        """Build from the config's ``training`` mapping (plus ``seed``), refusing unknown keys."""
        return options_from_dict(cls, values, "training")


Criterion = Callable[[GeneratorModule, Mapping[str, float]], float]
"""Scores an epoch from the model and its history row; the lowest score is kept."""


def validation_loss(model: GeneratorModule, row: Mapping[str, float]) -> float:
    """Default selection criterion: the validation loss of the epoch."""
    return row["val_loss"]


def _checked_array(x: np.ndarray, name: str, features: int, owner: str) -> np.ndarray:
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


def _checked_weights(w: np.ndarray | None, n: int, name: str, owner: str) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or w.sum() <= 0:
        msg = f"{owner}: {name} weights must be {n} finite values with a positive sum"
        raise HepgenError(msg + f", found shape {w.shape} and sum {w.sum()}")
    return (w / w.mean()).astype(np.float32)


def _autocast(device: str, amp: bool) -> tuple[torch.dtype | None, torch.amp.GradScaler | None]:
    if device != "cuda" or not amp:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def _precision(device: str, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


def evaluate(
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
    sums: dict[str, Tensor] = {}
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            wb = None if weights is None else weights[start : start + batch_size]
            with _precision(x.device.type, dtype):
                parts = model.loss(xb, weights=wb, generator=generator)
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value.float() * len(xb)
    return {key: value.item() / len(x) for key, value in sums.items()}


def _guard(row: Mapping[str, float], epoch: int, model: GeneratorModule, lr: float) -> None:
    bad = [key for key, value in row.items() if not math.isfinite(value)]
    if bad:
        msg = (
            f"training of model type {model.model_type!r} diverged at epoch {epoch}: "
            f"{', '.join(f'{k} = {row[k]}' for k in bad)}; lower the learning rate "
            f"(training.lr = {lr:g}) or check the transformed inputs"
        )
        raise HepgenError(msg)


def train_model(
    model: GeneratorModule,
    train: np.ndarray,
    val: np.ndarray,
    config: TrainConfig,
    *,
    weights: np.ndarray | None = None,
    val_weights: np.ndarray | None = None,
    criterion: Criterion = validation_loss,
) -> list[dict[str, float]]:
    """Train ``model`` with Adam and restore the state of its best epoch.

    Each epoch permutes the in-memory training tensor with a seeded generator and slices it
    into batches; the validation loss uses the same noise in every epoch. The epoch with the
    lowest ``criterion`` wins; its state is loaded back into ``model`` at the end.

    Arguments:
        model: the model; moved to the chosen device.
        train: transformed training events, float32, shape (n, d).
        val: transformed validation events, float32, shape (m, d).
        config: the loop options.
        weights: per-event training weights, shape (n,); normalised to mean 1.
        val_weights: per-event validation weights, shape (m,).
        criterion: epoch score, lower is better (default: validation loss).

    Returns:
        One row per epoch: ``epoch``, the loss parts (``loss``, ``mse``, ``kl``, ...), the
        same with a ``val_`` prefix, ``lr`` and ``seconds``.
    """
    owner = f"model type {model.model_type!r}"
    train = _checked_array(train, "training", model.features, owner)
    val = _checked_array(val, "validation", model.features, owner)
    if len(train) < config.batch_size:
        msg = (
            f"{owner}: the training set has {len(train)} events, fewer than one batch "
            f"(training.batch_size = {config.batch_size}); set a batch_size <= {len(train)}"
        )
        raise HepgenError(msg)
    device = pick_device(config.device)
    model.to(device)
    data = torch.as_tensor(train, device=device)
    vdata = torch.as_tensor(val, device=device)
    w = _checked_weights(weights, len(train), "training", owner)
    vw = _checked_weights(val_weights, len(val), "validation", owner)
    w = None if w is None else torch.as_tensor(w, device=device)
    vw = None if vw is None else torch.as_tensor(vw, device=device)

    order = torch.Generator().manual_seed(config.seed)
    noise = torch.Generator(device=device).manual_seed(config.seed + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimizer, config)
    dtype, scaler = _autocast(device, config.amp)
    bs = config.batch_size
    log.info("training %s on %s: %d events, %d validation", owner, device, len(data), len(vdata))

    history: list[dict[str, float]] = []
    best_score, best_epoch, best_state, stale = math.inf, 0, None, 0
    epochs = tqdm(range(1, config.epochs + 1), desc=f"train {model.model_type}", file=sys.stderr)
    for epoch in epochs:
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        row: dict[str, float] = {"epoch": epoch}
        row |= _train_epoch(model, data, w, optimizer, scaler, dtype, config, order, noise)
        parts = evaluate(model, vdata, batch_size=bs, seed=config.seed + 2, weights=vw, dtype=dtype)
        row |= {f"val_{key}": value for key, value in parts.items()}
        row |= {"lr": lr, "seconds": time.perf_counter() - start}
        _guard(row, epoch, model, lr)
        history.append(row)
        score = criterion(model, row)
        if not math.isfinite(score):
            msg = f"{owner}: the selection criterion is {score} at epoch {epoch}"
            raise HepgenError(msg)
        if score < best_score:
            best_score, best_epoch, stale = score, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        _advance(scheduler, row["val_loss"])
        epochs.set_postfix(loss=f"{row['loss']:.4g}", val_loss=f"{row['val_loss']:.4g}")
        if config.patience and stale >= config.patience:
            log.info("early stop at epoch %d: %d epochs without improvement", epoch, stale)
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    log.info("restored epoch %d (criterion %.6g) of %d", best_epoch, best_score, len(history))
    return history


def _train_epoch(
    model: GeneratorModule,
    data: Tensor,
    weights: Tensor | None,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    dtype: torch.dtype | None,
    config: TrainConfig,
    order: torch.Generator,
    noise: torch.Generator,
) -> dict[str, float]:
    """One pass over ``data`` (n, d) in a seeded random order; returns the mean loss parts."""
    model.train()
    perm = torch.randperm(len(data), generator=order).to(data.device)
    shuffled, shuffled_w = data[perm], None if weights is None else weights[perm]
    sums: dict[str, Tensor] = {}
    for lo in range(0, len(data), config.batch_size):
        xb = shuffled[lo : lo + config.batch_size]
        wb = None if shuffled_w is None else shuffled_w[lo : lo + config.batch_size]
        with _precision(data.device.type, dtype):
            parts = model.loss(xb, weights=wb, generator=noise)
        _step(optimizer, scaler, parts["loss"])
        for key, value in parts.items():
            sums[key] = sums.get(key, 0.0) + value.detach().float() * len(xb)
    return {key: value.item() / len(data) for key, value in sums.items()}


def _step(
    optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None, loss: Tensor
) -> None:
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Any:
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=10)
    return None


def _advance(scheduler: Any, val_loss: float) -> None:
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(val_loss)
    elif scheduler is not None:
        scheduler.step()
