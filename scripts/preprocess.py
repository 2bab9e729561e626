"""Snakemake adapter: event table → train/val/test split and the transform fitted on train."""

import pandas as pd

from hepgen.preprocessing import Transform, split_table
from hepgen.provenance import provenance
from hepgen.runtime import atomic_path, script_logging

log = script_logging(snakemake.log[0])  # noqa: F821
params = snakemake.params  # noqa: F821
table = pd.read_parquet(snakemake.input.table)  # noqa: F821
parts = split_table(table, dict(params.split), seed=params.seed)
transform = Transform.from_rules(list(table.columns), list(params.transforms)).fit(parts["train"])
for name, part in parts.items():
    log.info("split %s: %d events", name, len(part))
    with atomic_path(snakemake.output[name]) as tmp:  # noqa: F821
        part.to_parquet(tmp, index=False)
transform.save(
    snakemake.output.transform,  # noqa: F821
    split={name: len(part) for name, part in parts.items()},
    provenance=provenance(params.config, params.seed),
)
