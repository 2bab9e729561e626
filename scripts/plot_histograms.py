"""Snakemake adapter: truth-vs-generated histograms of every feature of one model."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.metrics.inputs import column_weights
from hepgen.plotting import metric_notes, plot_feature_grid
from hepgen.preprocessing import Transform
from hepgen.runtime import script_logging


def main(smk: Any) -> None:
    """Read samples, test split, features and metrics; write the histogram grid PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    # physical columns: the features plus any reference angle the transform makes relative
    features = list(Transform.load(smk.input.transform).columns)
    truth = pd.read_parquet(smk.input.test)
    generated = pd.read_parquet(smk.input.samples)
    metrics = json.loads(Path(smk.input.metrics).read_text())
    weights = column_weights(truth, generated, "weight", metric="feature histograms")
    plot_feature_grid(
        truth,
        generated,
        features=features,
        path=smk.output.plot,
        title=f"{p.dataset}: {p.model}",
        weights=weights,
        label=p.model,
        notes=metric_notes(metrics["w1"], "features"),
    )
    log.info("wrote %s (%d features)", smk.output.plot, len(features))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
