"""Snakemake adapter: histograms of the training features before and after preprocessing."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

import pandas as pd

from hepgen.logs import script_logging
from hepgen.plotting.preprocessing import plot_preprocessing, preprocessing_view
from hepgen.preprocessing import Transform


def main(smk: Any) -> None:
    """Read the training split and the transform; write the before/after PNG."""
    log = script_logging(smk.log[0])
    transform = Transform.load(smk.input.transform)
    table, inputs, labels = preprocessing_view(pd.read_parquet(smk.input.train), transform)
    plot_preprocessing(
        table,
        inputs,
        features=transform.features,
        path=smk.output.plot,
        title=smk.wildcards.dataset,
        labels=labels,
    )
    log.info("wrote %s (%d features)", smk.output.plot, len(transform.features))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
