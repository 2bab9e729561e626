"""Snakemake adapter: reweight one model's samples against the validation split; keep the classifiers."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import os

# Idle OpenMP threads of the boosted trees sleep instead of spinning (see scripts/evaluate.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from hepgen.files import atomic_path  # noqa: E402
from hepgen.logs import script_logging  # noqa: E402
from hepgen.preprocessing import Transform  # noqa: E402
from hepgen.provenance import provenance  # noqa: E402
from hepgen.reweighting import fit_reweighter  # noqa: E402
from hepgen.weighting import save_reweighter  # noqa: E402


def main(smk: Any) -> None:
    """Weight the usable generated events (unusable ones get 0; evaluation excludes them) and
    write the classifiers, which packaging puts into the generator file."""
    log = script_logging(smk.log[0] if smk.log else None)
    p = smk.params
    transform = Transform.load(smk.input.transform)
    generated = pd.read_parquet(smk.input.samples)
    usable = transform.usable(generated)
    truth = pd.read_parquet(smk.input.val)
    options = dict(p.options)
    with threadpool_limits(limits=max(1, int(smk.threads))):
        weights, record, reweighter = fit_reweighter(
            truth,
            generated[usable],
            features=list(transform.columns),
            seed=p.seed,
            folds=options["folds"],
            clip=options["clip"],
            classifier=options["classifier"],
        )
    column = np.zeros(len(generated))
    column[usable] = weights
    if "weight" in generated:
        log.info("the samples carry weights already: the reweighting multiplies them")
    generated["weight"] = column
    record["unusable"] = int(np.count_nonzero(~usable))
    with atomic_path(smk.output.samples) as tmp:
        generated.to_parquet(tmp, index=False)
    save_reweighter(smk.output.reweighter, reweighter)
    info = json.loads(Path(smk.input.info).read_text())
    info["refine"] = record
    info["refine_provenance"] = provenance(p.config, p.seed)
    with atomic_path(smk.output.info) as tmp:
        tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
