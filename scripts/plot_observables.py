"""Snakemake adapter: truth-vs-generated histograms of the physics observables of one model."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.metrics import observables
from hepgen.metrics.inputs import column_weights
from hepgen.plotting import metric_notes, plot_feature_grid
from hepgen.runtime import script_logging


def main(smk: Any) -> None:
    """Compute the observables of samples and test split; write their histogram grid PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    truth = pd.read_parquet(smk.input.test)
    generated = pd.read_parquet(smk.input.samples)
    metrics = json.loads(Path(smk.input.metrics).read_text())
    weights = column_weights(truth, generated, "weight", metric="observable histograms")
    truth_obs, generated_obs = observables(truth), observables(generated)
    names = list(metrics["observables"])
    plot_feature_grid(
        truth_obs,
        generated_obs,
        features=names,
        path=smk.output.plot,
        title=f"{p.dataset}: {p.model}, physics observables",
        weights=weights,
        label=p.model,
        notes=metric_notes(metrics["w1_obs"], "observables"),
        allow_missing=True,
    )
    log.info("wrote %s (%s)", smk.output.plot, ", ".join(names))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
