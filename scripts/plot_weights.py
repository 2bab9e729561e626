"""Snakemake adapter: the classifier weights of one reweighted sample."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hepgen.logs import script_logging
from hepgen.plotting.weights import plot_weights


def main(smk: Any) -> None:
    """Read the reweighted sample and its info JSON; write the weights PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    samples = pd.read_parquet(smk.input.samples)
    info = json.loads(Path(smk.input.info).read_text())["refine"]
    plot_weights(samples, info, path=smk.output.plot, title=f"{p.dataset}: {p.model}")
    log.info("wrote %s (effective sample size %.0f)", smk.output.plot, info["ess"])


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
