"""Snakemake adapter: ROOT ntuples → event table (Parquet) and its statistics (JSON)."""

import json

from hepgen.io import DatasetSpec, ingest, write_table
from hepgen.provenance import provenance
from hepgen.runtime import atomic_path, script_logging

log = script_logging(snakemake.log[0])  # noqa: F821
spec = DatasetSpec.from_config(snakemake.params.spec, files=list(snakemake.input.ntuples))  # noqa: F821
table, stats = ingest(spec)
stats["columns"] = list(table.columns)
stats["provenance"] = provenance(snakemake.params.config, snakemake.params.seed)  # noqa: F821
write_table(table, snakemake.output.table)  # noqa: F821
with atomic_path(snakemake.output.stats) as tmp:  # noqa: F821
    tmp.write_text(json.dumps(stats, indent=2) + "\n")
