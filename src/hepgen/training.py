"""Shared training loop: seeded in-memory batches, mixed precision on CUDA, best-epoch selection."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from hepgen.models.base import GeneratorModule, check_fields, options_from_dict
from hepgen.runtime import HepgenError
from hepgen.training_epoch import advance, evaluate
from hepgen.training_run import Callback, Criterion, Run, select
from hepgen.training_state import stop_signal

__all__ = [
    "Callback",
    "Criterion",
    "TrainConfig",
    "evaluate",
    "sampled_metric",
    "train_model",
    "validation_loss",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Options of the shared training loop (config key ``training``).

    Attributes:
        epochs: maximum number of passes over the training set.
        batch_size: events per optimiser step; must not exceed the training set.
        lr: Adam learning rate (of every optimiser of the model).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        seed: seeds the batch order, the model's noise and the selection draws.
        schedule: learning-rate schedule: ``"cosine"`` (to 0 over ``epochs``), ``"plateau"``
            (halve after 10 epochs without validation improvement) or ``"constant"``.
        patience: stop when this many epochs passed since the best one; 0 trains all epochs.
        weight_decay: Adam L2 penalty.
        amp: mixed precision (bf16, or fp16 with gradient scaling) on CUDA; ignored on CPU.
        select_by: best-epoch criterion: ``"metric"`` (mean 1-Wasserstein distance between
            generated and validation events, in transformed space) or ``"val_loss"``.
        select_every: compute the metric every this many epochs (and at the last epoch).
        checkpoint_every: write the resumable state every this many epochs; 0 only on
            SIGTERM/SIGINT.
        compile: compile the loss and its gradient with ``torch.compile`` (about 10-35 s
            once per run; then faster steps, most for small networks); models with their
            own step (GAN, VAE+D) are trained eagerly.
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
    select_by: str = field(default="metric", metadata={"choices": ("metric", "val_loss")})
    select_every: int = field(default=5, metadata={"min": 1})
    checkpoint_every: int = field(default=10, metadata={"min": 0})
    compile: bool = False

    def __post_init__(self) -> None:
        check_fields(self, "training")
        if self.select_by == "metric" and 0 < self.patience < self.select_every:
            msg = (
                f"training: key 'patience' ({self.patience}) must be 0 or at least "
                f"'select_every' ({self.select_every}) when select_by is 'metric'"
            )
            raise HepgenError(msg)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> TrainConfig:
        """Build from the config's ``training`` mapping (plus ``seed``), refusing unknown keys."""
        return options_from_dict(cls, values, "training")


def validation_loss(model: GeneratorModule, row: Mapping[str, float]) -> float:
    """Selection criterion ``val_loss``: the validation loss of the epoch."""
    return row["val_loss"]


def sampled_metric(model: GeneratorModule, row: Mapping[str, float]) -> float:
    """Selection criterion ``metric``: the sampled distance (NaN on epochs without it)."""
    return row["metric"]


def train_model(
    model: GeneratorModule,
    train: np.ndarray,
    val: np.ndarray,
    config: TrainConfig,
    *,
    weights: np.ndarray | None = None,
    val_weights: np.ndarray | None = None,
    criterion: Criterion | None = None,
    state_path: str | os.PathLike | None = None,
    callback: Callback | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` with its optimisers and restore the state of its best epoch.

    Each epoch permutes the in-memory training tensor with a seeded generator and slices it
    into batches handed to ``model.train_step``. The validation loss uses the same noise in
    every epoch; every ``select_every`` epochs the model samples as many events as the
    validation split (after ``prepare_sampling`` on the training split) and their mean
    1-Wasserstein distance to it is the ``metric``. The epoch with the lowest ``criterion``
    wins; its state is loaded back at the end and sampling is prepared from it.

    With ``state_path``, the full state (model, optimisers, schedulers, scaler, random
    generators, history, best state) is written every ``checkpoint_every`` epochs and on
    SIGTERM/SIGINT (after the current step; then :class:`TrainingInterrupted` is raised), and
    a run with the same model, options, device and data resumes from it bit-identically.

    Arguments:
        model: the model; moved to the chosen device.
        train: transformed training events, float32, shape (n, d).
        val: transformed validation events, float32, shape (m, d).
        config: the loop options.
        weights: per-event training weights, shape (n,); normalised to mean 1.
        val_weights: per-event validation weights, shape (m,).
        criterion: epoch score, lower is better (default: from ``config.select_by``).
        state_path: the resumable state file, e.g. ``models/<name>/last.ckpt``.
        callback: called after every optimiser step with (epoch, batch index).

    Returns:
        One row per epoch: ``epoch``, the loss parts (``loss``, ...), the same with a ``val_``
        prefix, ``metric`` (NaN on epochs without it), ``lr`` and ``seconds``.
    """
    run = Run.start(model, train, val, config, weights, val_weights, state_path)
    if criterion is None:
        criterion = sampled_metric if config.select_by == "metric" else validation_loss
    progress = run.progress
    with stop_signal() as stop:
        bar = tqdm(
            total=config.epochs,
            initial=progress.epoch,
            desc=f"train {model.model_type}",
            file=sys.stderr,
        )
        for epoch in range(progress.epoch + 1, config.epochs + 1):
            row = run.epoch(epoch, stop, callback)
            select(model, criterion, row, progress)
            advance(run.schedulers, row["val_loss"])
            progress.epoch = epoch
            bar.update()
            bar.set_postfix(loss=f"{row['loss']:.4g}", val_loss=f"{row['val_loss']:.4g}")
            if stop.received:
                run.interrupt(stop.received, epoch, row["lr"])
            if config.checkpoint_every and epoch % config.checkpoint_every == 0:
                run.save()
            if (
                config.patience
                and progress.best_epoch
                and epoch - progress.best_epoch >= config.patience
            ):
                log.info("early stop at epoch %d: best epoch %d", epoch, progress.best_epoch)
                break
        bar.close()
    run.finish()
    return progress.history
