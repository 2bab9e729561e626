"""Snakemake adapter: train one generator on the transformed training split."""

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from hepgen.checkpoint import save_checkpoint
from hepgen.devices import pick_device
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.logs import script_logging
from hepgen.models import build
from hepgen.preprocessing import Transform
from hepgen.preprocessing.condition import Conditioning, per_condition_weights
from hepgen.provenance import provenance
from hepgen.training import TrainConfig, state_path_for, train_model
from hepgen.training.mass_loss import MassMMD
from hepgen.training.stream import EventStream, transform_prepare


def training_events(
    path: str, encoder: Transform | Conditioning, config: TrainConfig
) -> tuple[pd.DataFrame | EventStream, np.ndarray | None]:
    """The training split in memory with its weights, or streamed (``training.stream_buffer``)."""
    if config.stream_buffer:
        stream = EventStream(path, transform_prepare(encoder), buffer=config.stream_buffer)
        return stream, None
    table = pd.read_parquet(path)
    return table, table["weight"].to_numpy() if "weight" in table else None


def loss_weights(
    table: pd.DataFrame | EventStream,
    weights: np.ndarray | None,
    conditioning: Conditioning | None,
    config: TrainConfig,
) -> np.ndarray | None:
    """The events' weights as the losses take them (``training.weights``)."""
    if weights is None or config.weights == "events":
        return weights
    if config.weights == "none":
        return None
    if conditioning is None:
        msg = "config training.weights 'per_condition' needs a model with 'condition' columns"
        raise HepgenError(msg)
    return per_condition_weights(weights, conditioning.physical(table))


def conditioning_for(smk: Any, transform: Transform, config: TrainConfig) -> Conditioning | None:
    """The model entry's ``condition`` columns, their own chains fitted on the training split
    (its first ``training.stream_reservoir`` events when training streams)."""
    if not smk.params.condition:
        return None
    if smk.params.mmd:
        msg = "config models: key 'mmd' cannot be combined with 'condition'"
        raise HepgenError(msg)
    conditioning = Conditioning.from_rules(transform, smk.params.condition, smk.params.rules)
    if conditioning.derived:
        table = pd.read_parquet(smk.input.train)
        if config.stream_buffer:
            table = table.iloc[: config.stream_reservoir]
        conditioning.fit(table)
    return conditioning


def main(smk: Any) -> None:
    """Read the splits and transform, train (resuming if a state file is present), write outputs.

    The resumable state lives beside the model as ``last.ckpt`` (not a Snakemake output, so
    a failed or killed job keeps it); it is removed once ``model.pt`` is written, because a
    finished run has nothing to resume and a stale state must never stand in for training.
    """
    log = script_logging(smk.log[0] if smk.log else None)
    torch.set_num_threads(max(1, int(smk.threads)))
    transform = Transform.load(smk.input.transform)
    val_table = pd.read_parquet(smk.input.val)
    config = TrainConfig.from_dict({**smk.params.training, "seed": smk.params.seed})
    conditioning = conditioning_for(smk, transform, config)
    encoder = conditioning or transform
    train, weights = training_events(smk.input.train, encoder, config)
    inputs = conditioning.inputs if conditioning else transform.features
    model = build(
        smk.params.model_type,
        len(inputs),
        smk.params.params,
        seed=smk.params.seed,
        conditions=len(conditioning.columns) if conditioning else 0,
    )
    if smk.params.mmd:
        mmd = smk.params.mmd
        model.physics_loss = MassMMD(transform, mmd["objects"], mmd.get("weight", 1.0))
        log.info("adding the MMD² of %d masses: %s", len(model.physics_loss.combinations), mmd)
    log.info("training %s on %d events with %s", smk.params.model_type, len(train), config)
    if conditioning:
        log.info(
            "conditioned on %s (own chains for %s)", conditioning.columns, conditioning.derived
        )
    state = state_path_for(smk.output.model)
    start = time.perf_counter()
    history = train_model(
        model,
        train if isinstance(train, EventStream) else encoder.forward(train),
        encoder.forward(val_table),
        config,
        weights=loss_weights(train, weights, conditioning, config),
        val_weights=loss_weights(
            val_table,
            val_table["weight"].to_numpy() if "weight" in val_table else None,
            conditioning,
            config,
        ),
        state_path=state,
    )
    extra = {
        "provenance": provenance(smk.params.config, smk.params.seed),
        "device": pick_device(config.device),
        "seconds": time.perf_counter() - start,
    }
    save_checkpoint(
        smk.output.model,
        model,
        type=smk.params.model_type,
        params=smk.params.params,
        features=inputs,
        training=dataclasses.asdict(config),
        history=history,
        extra=extra,
        condition=conditioning.to_dict() if conditioning else None,
    )
    with atomic_path(smk.output.history) as tmp:
        pd.DataFrame(history).to_csv(tmp, index=False)
    state.unlink(missing_ok=True)


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
