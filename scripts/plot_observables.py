"""Snakemake adapter: truth-vs-generated histograms of the physics observables of one model."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.condition_rows import judged_truth
from hepgen.logs import script_logging
from hepgen.plotting.observables import plot_observables
from hepgen.preprocessing import Transform


def main(smk: Any) -> None:
    """Read samples, test split and metrics; write the observables' histogram grid PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    metrics = json.loads(Path(smk.input.metrics).read_text())
    transform = Transform.load(smk.input.transform)
    plot_observables(
        # a targeted sample: the test events inside its region, as the metrics judged it
        judged_truth(pd.read_parquet(smk.input.test), metrics.get("region"), transform),
        pd.read_parquet(smk.input.samples),
        metrics=metrics,
        path=smk.output.plot,
        dataset=p.dataset,
        model=p.model,
    )
    log.info("wrote %s (%s)", smk.output.plot, ", ".join(metrics["observables"]))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
