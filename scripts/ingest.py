"""Snakemake adapter: ROOT ntuples → event table (Parquet, streamed) and its statistics (JSON)."""

import json

from hepgen.files import atomic_path
from hepgen.io import DatasetSpec, ingest_to_parquet
from hepgen.logs import script_logging
from hepgen.provenance import provenance

log = script_logging(snakemake.log[0])  # noqa: F821
params = snakemake.params  # noqa: F821
spec = DatasetSpec.from_config(params.spec, files=list(snakemake.input.ntuples))  # noqa: F821
stats = ingest_to_parquet(spec, snakemake.output.table, threads=snakemake.threads)  # noqa: F821
stats["provenance"] = provenance(params.config, params.seed)
with atomic_path(snakemake.output.stats) as tmp:  # noqa: F821
    tmp.write_text(json.dumps(stats, indent=2) + "\n")
