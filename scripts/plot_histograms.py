"""Snakemake adapter: truth-vs-generated histograms of every feature of one model."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.condition_rows import judged_truth
from hepgen.logs import script_logging
from hepgen.plotting.histograms import plot_histograms
from hepgen.preprocessing import Transform


def main(smk: Any) -> None:
    """Read samples, test split, features and metrics; write the histogram grid PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    # physical columns: the features plus any reference angle the transform makes relative
    transform = Transform.load(smk.input.transform)
    features = list(transform.columns)
    metrics = json.loads(Path(smk.input.metrics).read_text())
    plot_histograms(
        # a targeted sample: the test events inside its region, as the metrics judged it
        judged_truth(pd.read_parquet(smk.input.test), metrics.get("region"), transform),
        pd.read_parquet(smk.input.samples),
        features=features,
        metrics=metrics,
        path=smk.output.plot,
        dataset=p.dataset,
        model=p.model,
    )
    log.info("wrote %s (%d features)", smk.output.plot, len(features))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
