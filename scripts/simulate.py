"""Snakemake adapter: one chunk of Pythia8 events → ROOT ntuple and run statistics (JSON)."""

import json

from hepgen.files import atomic_path
from hepgen.logs import script_logging
from hepgen.provenance import provenance
from hepgen.simulate import simulate, write_ntuple

log = script_logging(snakemake.log[0])  # noqa: F821
params = {
    "process": str(snakemake.params.process),  # noqa: F821
    "options": dict(snakemake.params.options or {}),  # noqa: F821
    "events": int(snakemake.params.events),  # noqa: F821
    "seed": int(snakemake.params.seed),  # noqa: F821
    "ecm": float(snakemake.params.ecm),  # noqa: F821
}
branches, stats = simulate(
    params["process"],
    events=params["events"],
    seed=params["seed"],
    ecm=params["ecm"],
    options=params["options"],
)
write_ntuple(snakemake.output.ntuple, branches)  # noqa: F821
stats["provenance"] = provenance(params, params["seed"])
with atomic_path(snakemake.output.stats) as tmp:  # noqa: F821
    tmp.write_text(json.dumps(stats, indent=2) + "\n")
log.info("wrote %s", snakemake.output.ntuple)  # noqa: F821
