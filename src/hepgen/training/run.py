"""One run of the shared training loop: input checks, device tensors, epochs, state, selection."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import torch

from hepgen.devices import pick_device, retain_freed_memory
from hepgen.errors import HepgenError
from hepgen.models.base import GeneratorModule, checked_events, checked_weights
from hepgen.models.step import StepContext
from hepgen.seeds import derive_seed
from hepgen.training.epoch import (
    autocast_for,
    raise_if_diverged,
    run_epoch,
    run_stream_epoch,
    scheduler_for,
    validation_losses,
)
from hepgen.training.options import TrainConfig
from hepgen.training.selection import (
    Criterion,
    sample_distance,
    sampled_distances,
    selection_names,
)
from hepgen.training.state import (
    Progress,
    StopSignal,
    TrainingInterrupted,
    load_state,
    run_key,
    save_state,
)
from hepgen.training.stream import EventStream

__all__ = ["Callback", "Criterion", "Run", "fit_in_one_step", "reservoir_of"]

log = logging.getLogger(__name__)

Callback = Callable[[int, int], None]
"""Called after every optimiser step with (epoch, batch index within the epoch)."""


@dataclass
class Run:
    """The tensors, optimisers and bookkeeping of one call of :func:`hepgen.training.train_model`."""

    model: GeneratorModule
    config: TrainConfig
    data: torch.Tensor
    vdata: torch.Tensor
    weights: torch.Tensor | None
    val_weights: torch.Tensor | None
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, Any]
    ctx: StepContext
    order: torch.Generator
    key: str
    state_path: str | os.PathLike | None
    progress: Progress
    stream: EventStream | None = None

    @classmethod
    def start(
        cls,
        model: GeneratorModule,
        train: np.ndarray | EventStream,
        val: np.ndarray,
        config: TrainConfig,
        weights: np.ndarray | None,
        val_weights: np.ndarray | None,
        state_path: str | os.PathLike | None,
    ) -> Run:
        """Check the inputs (before any training), move them to the device, resume if possible.

        A streamed training split is scanned once first: every event checked, the weights
        normalised, a reservoir sampled (it stands in for ``data``) and the bytes hashed.
        """
        owner = f"model type {model.model_type!r}"
        stream = train if isinstance(train, EventStream) else None
        digest = None
        if stream is not None:
            train, weights, digest = reservoir_of(model, stream, config, weights)
        train, val, w, vw = _checked(model, train, val, weights, val_weights)
        events = len(train) if stream is None else stream.events
        if events < config.batch_size:
            msg = (
                f"{owner}: the training set has {events} events, fewer than one batch "
                f"(training.batch_size = {config.batch_size}); set a batch_size <= {events}"
            )
            raise HepgenError(msg)
        device = pick_device(config.device)
        if device == "cpu":
            retain_freed_memory()
        model.to(device)
        optimizers = model.optimizers(lr=config.lr, weight_decay=config.weight_decay)
        dtype, scaler = autocast_for(device, config.amp)
        noise = torch.Generator(device=device).manual_seed(derive_seed(config.seed, "noise"))
        described = {
            "type": model.model_type,
            "params": dataclasses.asdict(model.hparams),
            "training": dataclasses.asdict(config),
            "device": device,
        }
        if digest is not None:
            # the row groups fix the stream's order, so they are part of what a run is
            described["stream"] = {"digest": digest, "groups": stream.groups}
        run = cls(
            model=model,
            config=config,
            data=torch.as_tensor(train, device=device),
            vdata=torch.as_tensor(val, device=device),
            weights=None if w is None else torch.as_tensor(w, device=device),
            val_weights=None if vw is None else torch.as_tensor(vw, device=device),
            optimizers=optimizers,
            schedulers={
                k: scheduler_for(o, config.schedule, config.epochs) for k, o in optimizers.items()
            },
            ctx=StepContext(device, dtype, scaler, noise, compile=config.compile),
            order=torch.Generator().manual_seed(derive_seed(config.seed, "order")),
            key=run_key(described, train, val, w, vw),
            state_path=state_path,
            progress=Progress(),
            stream=stream,
        )
        if state_path is not None:
            run.progress = load_state(state_path, key=run.key, **run.state()) or run.progress
        log.info("training %s on %s: %d events, %d validation", owner, device, events, len(val))
        if config.compile and type(model).train_step is not GeneratorModule.train_step:
            log.warning("training.compile: %s has its own training step; it runs eagerly", owner)
        return run

    def state(self) -> dict[str, Any]:
        """The objects a training state file holds, by :func:`save_state` argument name."""
        return {
            "model": self.model,
            "optimizers": self.optimizers,
            "schedulers": self.schedulers,
            "scaler": self.ctx.scaler,
            "generators": {"order": self.order, "noise": self.ctx.generator},
        }

    def save(self) -> None:
        """Write the state file, if there is one."""
        if self.state_path is not None:
            save_state(self.state_path, key=self.key, progress=self.progress, **self.state())

    def epoch(self, epoch: int, stop: StopSignal, callback: Callback | None) -> dict[str, float]:
        """Train one epoch, validate, sample the metric when due; return the history row."""
        cfg, model, start = self.config, self.model, time.perf_counter()
        lr = next(iter(self.optimizers.values())).param_groups[0]["lr"]
        common = {"epoch": epoch, "batch_size": cfg.batch_size, "progress": self.progress}
        common |= {"stop": stop, "callback": callback}
        if self.stream is None:
            data, weights = self.data, self.weights
            parts = run_epoch(
                model, data, weights, self.optimizers, self.ctx, order=self.order, **common
            )
        else:
            seed = derive_seed(cfg.seed, "order", epoch)
            parts = run_stream_epoch(
                model, self.stream, self.optimizers, self.ctx, seed=seed, **common
            )
        if parts is None:
            self.interrupt(stop.received, epoch, lr)
        raise_if_diverged(parts, f"epoch {epoch}", model, lr)
        val = validation_losses(
            model,
            self.vdata,
            batch_size=cfg.batch_size,
            seed=derive_seed(cfg.seed, "validation"),
            weights=self.val_weights,
            dtype=self.ctx.dtype,
        )
        raise_if_diverged(val, f"epoch {epoch} (validation)", model, lr)
        scores = dict.fromkeys(selection_names(cfg.select_by), math.nan)
        if epoch % cfg.select_every == 0 or epoch == cfg.epochs:
            scores = sampled_distances(
                model,
                self.data,
                self.vdata,
                list(scores),
                seed=derive_seed(cfg.seed, "selection"),
                weights=self.weights,
                val_weights=self.val_weights,
            )
            if math.isnan(scores["metric"]):
                msg = f"training of model type {model.model_type!r} diverged at epoch {epoch}: it generated NaN/inf events"
                raise HepgenError(msg)
        row = {"epoch": epoch, **parts, **{f"val_{k}": v for k, v in val.items()}, **scores}
        row |= {"lr": lr, "seconds": time.perf_counter() - start}
        self.progress.history.append(row)
        return row

    def interrupt(self, signame: str | None, epoch: int, lr: float) -> NoReturn:
        """Save the state (unless the interrupted epoch diverged) and raise."""
        cursor = self.progress.cursor
        if cursor is not None:
            sums = {k: v.item() / cursor["count"] for k, v in cursor["sums"].items()}
            raise_if_diverged(sums, f"epoch {epoch} (interrupted)", self.model, lr)
        self.save()
        if self.state_path is not None:
            saved = f"state written to {self.state_path}; run again with the same config to resume"
        else:
            saved = "no state file was given, nothing was saved"
        msg = (
            f"training of model type {self.model.model_type!r} interrupted by {signame} in "
            f"epoch {epoch} after {self.progress.step} steps; {saved}"
        )
        log.error(msg)
        raise TrainingInterrupted(msg)

    def finish(self) -> None:
        """Load the best epoch's state and prepare sampling from the training events."""
        progress, model = self.progress, self.model
        if progress.best_state is not None:
            model.load_state_dict(progress.best_state)
        model.eval()
        with torch.no_grad():
            model.prepare_sampling(
                self.data, self.weights, seed=derive_seed(self.config.seed, "prepare")
            )
        log.info(
            "restored epoch %d (criterion %.6g) of %d",
            progress.best_epoch,
            progress.best_score,
            len(progress.history),
        )


def _checked(
    model: GeneratorModule,
    train: np.ndarray,
    val: np.ndarray,
    weights: np.ndarray | None,
    val_weights: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The events as float32 (n, d), (m, d) and the weights normalised to mean 1, checked."""
    owner = f"model type {model.model_type!r}"
    train = checked_events(train, "training", model.features, owner)
    val = checked_events(val, "validation", model.features, owner)
    neg = model.negative_weights
    w = checked_weights(weights, len(train), "training", owner, negative=neg)
    vw = checked_weights(val_weights, len(val), "validation", owner, negative=neg)
    return train, val, w, vw


def fit_in_one_step(
    model: GeneratorModule,
    train: np.ndarray,
    val: np.ndarray,
    config: TrainConfig,
    weights: np.ndarray | None,
    val_weights: np.ndarray | None,
) -> list[dict[str, float]]:
    """Fit a model that is not trained by gradient descent (``model.iterative`` false).

    The model's :meth:`~hepgen.models.base.GeneratorModule.fit_events` fits it to the
    training events, seeded by ``config.seed``; only ``config.seed``, ``config.device`` and
    ``config.batch_size`` (of the loss passes) matter.

    Returns:
        One history row: ``epoch`` 1, the loss parts on the training and (``val_`` prefix)
        validation events, ``metric`` (the selection distance of a sample to ``val``),
        ``lr`` (NaN) and ``seconds``.
    """
    start = time.perf_counter()
    train, val, w, vw = _checked(model, train, val, weights, val_weights)
    device = pick_device(config.device)
    model.to(device).eval()
    model.fit_events(train, w, seed=derive_seed(config.seed, "fit"))
    data, vdata = torch.as_tensor(train, device=device), torch.as_tensor(val, device=device)
    tw = None if w is None else torch.as_tensor(w, device=device)
    tvw = None if vw is None else torch.as_tensor(vw, device=device)
    losses = {"batch_size": config.batch_size, "seed": derive_seed(config.seed, "validation")}
    row: dict[str, float] = {"epoch": 1, **validation_losses(model, data, weights=tw, **losses)}
    row |= {
        f"val_{k}": v for k, v in validation_losses(model, vdata, weights=tvw, **losses).items()
    }
    metric = sample_distance(
        model, data, vdata, seed=derive_seed(config.seed, "selection"), val_weights=tvw
    )
    row |= {"metric": metric, "lr": math.nan, "seconds": time.perf_counter() - start}
    return [row]


def reservoir_of(
    model: GeneratorModule,
    stream: EventStream,
    config: TrainConfig,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Scan a streamed training split: (reservoir (r, d), its weights (r,) or None, digest).

    The reservoir holds ``config.stream_reservoir`` training events drawn uniformly (seeded);
    the weights come from the file's ``weight`` column, so ``weights`` must be ``None``.
    """
    owner = f"model type {model.model_type!r}"
    if weights is not None:
        msg = f"{owner}: a streamed training split carries its weights in its file; pass none"
        raise HepgenError(msg)
    scan = stream.scan(
        config.stream_reservoir,
        seed=derive_seed(config.seed, "reservoir"),
        features=model.features,
        owner=owner,
        negative=model.negative_weights,
    )
    log.info(
        "%s: %d training events streamed from %s; a reservoir of %d stands in for them at once",
        owner,
        stream.events,
        stream.path,
        len(scan.sample),
    )
    return scan.sample, scan.weights, scan.digest
