"""Snakemake adapter: draw events from a trained generator and write them in physical units."""

import json
from typing import Any

import torch

from hepgen.checkpoint import load_checkpoint
from hepgen.devices import pick_device
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.logs import script_logging
from hepgen.preprocessing import Transform
from hepgen.provenance import provenance
from hepgen.sampling import write_samples


def main(smk: Any) -> None:
    """Load the checkpoint and transform, stream the samples to Parquet, write the info JSON."""
    log = script_logging(smk.log[0] if smk.log else None)
    torch.set_num_threads(max(1, int(smk.threads)))
    device = pick_device(smk.params.device)
    model, meta = load_checkpoint(smk.input.model, device=device)
    transform = Transform.load(smk.input.transform)
    if list(transform.features) != meta["features"]:
        msg = (
            f"checkpoint {smk.input.model} was trained on features {meta['features']}, "
            f"but {smk.input.transform} has {list(transform.features)}"
        )
        raise HepgenError(msg)
    p = smk.params
    info = write_samples(
        smk.output.samples,
        model,
        p.events,
        seed=p.seed,
        batch_size=p.batch_size,
        inverse=lambda x, rng: transform.inverse(x, rng=rng),
        postprocess=transform.postprocess,
        device=device,
        workers=max(1, int(smk.threads)),
        max_removed_fraction=p.max_removed_fraction,
    )
    validity = info["validity"]
    log.info(
        "%.2f %% of generated events were invalid before repair (%.2f %% unphysical, the rest "
        "outside the training selection): %s",
        100 * validity["invalid_fraction"],
        100 * validity["unphysical_fraction"],
        validity["reasons"],
    )
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
