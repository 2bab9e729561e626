"""Snakemake adapter: training curves of one model from its history.csv."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

import pandas as pd

from hepgen.logs import script_logging
from hepgen.plotting.training import plot_training


def main(smk: Any) -> None:
    """Read the training history and write the training-curve PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    history = pd.read_csv(smk.input.history)
    plot_training(history, path=smk.output.plot, title=f"{p.dataset}: {p.model}")
    log.info("wrote %s (%d epochs)", smk.output.plot, len(history))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
