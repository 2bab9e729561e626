"""Snakemake adapter: one sample (plain or reweighted) as a ROOT file in the dataset's input schema."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

import pandas as pd

from hepgen.generator import apply_selection, event_weight, load_generator
from hepgen.io.writer import write_root
from hepgen.logs import script_logging
from hepgen.preprocessing.condition import PREFIX


def main(smk: Any) -> None:
    """Read the sample and the model's generator file (schema, cross section); write the TTree."""
    log = script_logging(smk.log[0] if smk.log else None)
    generator = load_generator(smk.input.generator)
    table = pd.read_parquet(smk.input.samples)
    if "weight" in table:  # a reweighted sample: unusable events (weight 0) are left out
        table = table[table["weight"] > 0].reset_index(drop=True)
    table, removed = apply_selection(table, generator.spec)  # as ingestion would read it back
    weight = event_weight(generator.cross_section, smk.params.drawn)
    # a conditional sample keeps its conditions (those that are no schema column) as branches
    extra = [c for c in table.columns if c.startswith(PREFIX)]
    if generator.spec.pairs is not None:  # one row per object: every column is a flat branch
        extra = [c for c in table.columns if c != "weight"]
    events = write_root(smk.output.root, table, generator.spec, weight, extra)
    log.info(
        "wrote %d events to %s (%d outside the dataset's object selection left out; weight "
        "%.4g pb per drawn event)", events, smk.output.root, removed, weight,
    )  # fmt: skip


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
