"""Shared training loop: seeded batches (in memory or streamed), mixed precision, best-epoch selection."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

import numpy as np
from tqdm import tqdm

from hepgen.models.base import GeneratorModule
from hepgen.training.epoch import step_schedulers
from hepgen.training.options import TrainConfig
from hepgen.training.run import Callback, Criterion, Run, fit_in_one_step, reservoir_of
from hepgen.training.selection import criterion_for, select
from hepgen.training.state import stop_signal
from hepgen.training.stream import EventStream

__all__ = ["sampled_metric", "train_model", "validation_loss"]

log = logging.getLogger(__name__)


def validation_loss(model: GeneratorModule, row: Mapping[str, float]) -> float:
    """Selection criterion ``val_loss``: the validation loss of the epoch."""
    return row["val_loss"]


def sampled_metric(model: GeneratorModule, row: Mapping[str, float]) -> float:
    """Selection criterion ``metric``: the sampled distance (NaN on epochs without it)."""
    return row["metric"]


def train_model(
    model: GeneratorModule,
    train: np.ndarray | EventStream,
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

    A training split given as an :class:`~hepgen.training.stream.EventStream` is never held
    in memory: each epoch reads its row groups through the stream's shuffling buffer (the
    order seeded per epoch, so a resumed epoch replays it and skips what was trained), and a
    seeded reservoir of ``config.stream_reservoir`` events stands in for the split in the
    selection metric, ``prepare_sampling`` and a one-step fit. The validation split stays in
    memory.

    Arguments:
        model: the model; moved to the chosen device.
        train: transformed training events, float32, shape (n, d), or a stream of them.
        val: transformed validation events, float32, shape (m, d).
        config: the loop options.
        weights: per-event training weights, shape (n,); normalised to mean 1 (a stream
            reads them from its file instead).
        val_weights: per-event validation weights, shape (m,).
        criterion: epoch score, lower is better (default: from ``config.select_by``).
        state_path: the resumable state file, e.g. ``models/<name>/last.ckpt``.
        callback: called after every optimiser step with (epoch, batch index).

    A model that is not trained by gradient descent (``model.iterative`` false, e.g. a
    Gaussian mixture) is fitted once by :func:`hepgen.training.run.fit_in_one_step` instead;
    ``criterion``, ``state_path`` and ``callback`` do not apply to it.

    Returns:
        One row per epoch: ``epoch``, the loss parts (``loss``, ...), the same with a ``val_``
        prefix, ``metric`` (NaN on epochs without it), ``lr`` and ``seconds``. The model is
        left in eval mode.
    """
    if not model.iterative:
        if isinstance(train, EventStream):
            train, weights, _ = reservoir_of(model, train, config, weights)
        return fit_in_one_step(model, train, val, config, weights, val_weights)
    run = Run.start(model, train, val, config, weights, val_weights, state_path)
    if criterion is None:
        criterion = criterion_for(config.select_by, val_weights)
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
            step_schedulers(run.schedulers, row["val_loss"])
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
