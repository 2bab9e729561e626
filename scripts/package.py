"""Snakemake adapter: one trained model and everything that samples it (with its reweighting
classifiers for a model with `refine`) → generator.pt."""

import json
from pathlib import Path
from typing import Any

from hepgen.generator import cross_section_record, save_generator
from hepgen.logs import script_logging
from hepgen.preprocessing import Transform
from hepgen.provenance import provenance


def main(smk: Any) -> None:
    """Read the checkpoint, transform and generation/ingestion records; write the generator."""
    log = script_logging(smk.log[0] if smk.log else None)
    p = smk.params
    transform = Transform.load(smk.input.transform)
    metadata = json.loads(Path(smk.input.transform).read_text()).get("metadata", {})
    removed = metadata.get("tail_cuts", {}).get("removed_fraction", {}).get("train", 0.0)
    # generation records: the simulated chunks' JSON, or a .json beside each user file
    stats_files = [Path(f) for f in smk.input.ntuple_stats] or [
        Path(f).with_suffix(".json") for f in p.files
    ]
    ntuple_stats = [json.loads(f.read_text()) for f in stats_files if f.is_file()]
    if len(ntuple_stats) < len(stats_files):
        ntuple_stats = []  # a cross section of part of the input would mislead
    ingest_stats = json.loads(Path(smk.input.ingest_stats).read_text())
    cross_section = cross_section_record(ntuple_stats, ingest_stats, removed)
    log.info("cross section and selection efficiency: %s", cross_section)
    save_generator(
        smk.output.generator,
        smk.input.model,
        transform,
        p.dataset,
        cross_section=cross_section,
        provenance={
            "dataset": smk.wildcards.dataset,
            "model": smk.wildcards.model,
            **provenance(p.config, p.seed),
        },
        reweighter=smk.input.get("reweighter") or None,  # models with `refine` only
    )


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
