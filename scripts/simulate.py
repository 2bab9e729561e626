"""Snakemake adapter: one chunk of Pythia8 events → ROOT ntuple and run statistics (JSON)."""

import json

from hepgen.files import atomic_path
from hepgen.logs import script_logging
from hepgen.provenance import provenance
from hepgen.simulate import simulate, write_ntuple
from hepgen.simulate.slices import stitch_weights

log = script_logging(snakemake.log[0])  # noqa: F821
params = {
    "process": str(snakemake.params.process),  # noqa: F821
    "options": dict(snakemake.params.options or {}),  # noqa: F821
    "events": int(snakemake.params.events),  # noqa: F821
    "seed": int(snakemake.params.seed),  # noqa: F821
    "ecm": float(snakemake.params.ecm),  # noqa: F821
}
piece = snakemake.params.slice  # noqa: F821 - None, or {index, events, options} of a slice
if piece is not None:
    params["slice"] = {**piece, "options": dict(piece["options"])}
branches, stats = simulate(
    params["process"],
    events=params["events"],
    seed=params["seed"],
    ecm=params["ecm"],
    options=params["options"],
)
if "slice" in params:
    # one slice of a stitched sample: weights in pb, so that every slice enters with its rate
    branches["weight"], scale = stitch_weights(
        branches["weight"], stats["sigma_pb"], int(params["slice"]["events"])
    )
    stats["slice"] = {**params["slice"], "weight_scale_pb": scale}
    log.info("slice %d: event weights × %.4g pb", params["slice"]["index"], scale)
write_ntuple(snakemake.output.ntuple, branches)  # noqa: F821
stats["provenance"] = provenance(params, params["seed"])
with atomic_path(snakemake.output.stats) as tmp:  # noqa: F821
    tmp.write_text(json.dumps(stats, indent=2) + "\n")
log.info("wrote %s", snakemake.output.ntuple)  # noqa: F821
