"""Snakemake adapter: event table → split, tail cuts, and the transform fitted on train."""

import pandas as pd

from hepgen.io import write_table
from hepgen.logs import script_logging
from hepgen.preprocessing import (
    Representation,
    Transform,
    apply_cuts,
    cut_patterns,
    fit_cuts,
    split_table,
)
from hepgen.preprocessing.observables import derived_columns, derived_table
from hepgen.preprocessing.streaming import StreamOptions, fit_streaming, write_row_groups
from hepgen.provenance import provenance
from hepgen.seeds import derive_seed

log = script_logging(snakemake.log[0])  # noqa: F821
params = snakemake.params  # noqa: F821
table = pd.read_parquet(snakemake.input.table)  # noqa: F821
parts = split_table(table, dict(params.split), seed=params.seed)
phi = {**params.phi, "seed": params.phi_seed} if params.phi else None
representation = Representation.from_config(
    dict(params.dataset), params.representation, seed=derive_seed(params.seed, "padding")
)
transform = Transform.from_rules(
    list(table.columns), list(params.transforms), phi=phi, representation=representation
)
tail_cuts = dict(params.tail_cuts)
# Observables named by a tail-cut pattern but absent from the table (m_mumu, pt_mumu, mt, ht...)
# are derived from each event's objects for the cut, then dropped again.
derived = derived_columns(parts["train"], cut_patterns(tail_cuts))
cut_on = {name: part.join(derived_table(part, derived)) for name, part in parts.items()}
cuts = fit_cuts(cut_on["train"], [*transform.columns, *derived], tail_cuts)
removed = {}
for name, part in cut_on.items():
    kept, removed[name] = apply_cuts(part, cuts, name=name)
    parts[name] = kept.drop(columns=derived)
stream = StreamOptions.from_dict(params.stream)
for name, part in parts.items():
    log.info("split %s: %d events", name, len(part))
    if stream is None:
        write_table(part, snakemake.output[name])  # noqa: F821
    else:  # row groups of bounded size, for streamed training
        write_row_groups(part, snakemake.output[name], stream.row_group)  # noqa: F821
fitted = {}
if stream is None:
    transform.fit(parts["train"])
else:  # one pass over the written training split through a bounded sample
    seed = derive_seed(params.seed, "transform sample")
    train_path = snakemake.output.train  # noqa: F821
    fitted["stream"] = fit_streaming(transform, train_path, stream.reservoir, seed=seed)
transform.save(
    snakemake.output.transform,  # noqa: F821
    split={name: len(part) for name, part in parts.items()},
    tail_cuts={"thresholds": cuts, "removed_fraction": removed},
    provenance=provenance(params.config, params.seed),
    **fitted,
)
