"""Snakemake adapter: Spearman correlation matrices of truth and generated features of one model."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.condition_rows import judged_truth
from hepgen.logs import script_logging
from hepgen.metrics.inputs import column_weights
from hepgen.plotting.correlations import plot_correlations
from hepgen.preprocessing import Transform


def main(smk: Any) -> None:
    """Read samples, test split, features and metrics; write the correlation PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    # physical columns: the features plus any reference angle the transform makes relative
    transform = Transform.load(smk.input.transform)
    features = list(transform.columns)
    metrics = json.loads(Path(smk.input.metrics).read_text())
    # a targeted sample: the test events inside its region, as the metrics judged it
    truth = judged_truth(pd.read_parquet(smk.input.test), metrics.get("region"), transform)
    generated = pd.read_parquet(smk.input.samples)
    e = metrics["spearman"]
    plot_correlations(
        truth,
        generated,
        features=features,
        path=smk.output.plot,
        title=f"{p.dataset}: {p.model}",
        weights=column_weights(truth, generated, "weight", metric="correlation plot"),
        label=p.model,
        note=(
            rf"$\|\Delta\rho\|_F$ = {e['value']:.3f} ± {e['err']:.3f} "
            f"(floor {e['floor']:.3f} ± {e['floor_err']:.3f})"
        ),
    )
    log.info("wrote %s", smk.output.plot)


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
