"""Snakemake adapter: draw events from a trained generator and write them in physical units."""

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch

from hepgen.checkpoint import load_checkpoint
from hepgen.condition_rows import condition_rows
from hepgen.devices import pick_device
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.generator import apply_selection
from hepgen.io import DatasetSpec
from hepgen.logs import script_logging
from hepgen.preprocessing import Transform
from hepgen.preprocessing.condition import Conditioning
from hepgen.provenance import provenance
from hepgen.sampling import write_samples


def selected(postprocess: Callable, spec: DatasetSpec, *, drop: bool) -> Callable:
    """``postprocess``, then the dataset's object selection (:func:`apply_selection`): the
    events outside it are dropped and counted as ``outside_selection`` (``drop``), or kept
    and counted as ``outside_selection_kept``."""

    def run(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        table, validity = postprocess(table)
        kept, outside = apply_selection(table, spec)
        if drop:
            return kept, {**validity, "outside_selection": outside}
        return table, {**validity, "outside_selection_kept": outside}

    return run


def main(smk: Any) -> None:
    """Load the checkpoint and transform, stream the samples to Parquet, write the info JSON."""
    log = script_logging(smk.log[0] if smk.log else None)
    torch.set_num_threads(max(1, int(smk.threads)))
    device = pick_device(smk.params.device)
    model, meta = load_checkpoint(smk.input.model, device=device)
    transform = Transform.load(smk.input.transform)
    p = smk.params
    spec = DatasetSpec.from_config(p.spec, files=[])
    decoder, conditions = transform, None
    if meta.get("condition"):
        decoder = Conditioning.from_dict(meta["condition"], transform)
        rows = condition_rows(
            p.condition, decoder, p.events, test=smk.input.test, train=smk.input.train, seed=p.seed
        )
        conditions = decoder.encode(rows)
    inputs = decoder.inputs if meta.get("condition") else list(transform.features)
    if inputs != meta["features"]:
        msg = (
            f"checkpoint {smk.input.model} was trained on features {meta['features']}, "
            f"but {smk.input.transform} gives {inputs}"
        )
        raise HepgenError(msg)
    info = write_samples(
        smk.output.samples,
        model,
        p.events,
        seed=p.seed,
        batch_size=p.batch_size,
        inverse=lambda x, rng: decoder.inverse(x, rng=rng),
        # the truth passed the dataset's selection, so must the events that are judged
        # against it (as Generator.sample delivers them); a conditional model's events keep
        # their condition rows, so they are only counted
        postprocess=selected(transform.postprocess, spec, drop=conditions is None),
        device=device,
        workers=max(1, int(smk.threads)),
        max_removed_fraction=p.max_removed_fraction,
        conditions=conditions,
    )
    validity = info["validity"]
    log.info(
        "%.2f %% of generated events were invalid before repair (%.2f %% unphysical, the rest "
        "outside the training selection): %s; %d events outside the dataset's selection %s",
        100 * validity["invalid_fraction"],
        100 * validity["unphysical_fraction"],
        validity["reasons"],
        validity["outside_selection"] + validity["outside_selection_kept"],
        "were dropped" if conditions is None else "are kept (conditional model)",
    )
    if meta.get("condition"):
        info["condition"] = {"columns": decoder.columns, "source": dict(p.condition or {})}
        if decoder.derived:  # how far the events' own values lie from those asked for
            info["condition"]["mismatch"] = decoder.mismatch(pd.read_parquet(smk.output.samples))
            log.info("condition mismatch: %s", info["condition"]["mismatch"])
    settings = {"events": p.events, "batch_size": p.batch_size, "seed": p.seed, "device": device}
    info |= {
        "model": str(smk.input.model),
        "type": meta["type"],
        "params": meta["params"],
        "provenance": provenance(getattr(p, "config", settings), p.seed),
        "training_provenance": meta.get("extra", {}).get("provenance"),
    }
    with atomic_path(smk.output.info) as tmp:
        tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
