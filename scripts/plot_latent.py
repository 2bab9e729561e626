"""Snakemake adapter: latent space of one encoder model (encoded test events vs sampled codes)."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

import pandas as pd

from hepgen.checkpoint import load_checkpoint
from hepgen.logs import script_logging
from hepgen.plotting.latent import latent_points, plot_latent
from hepgen.preprocessing import Transform


def main(smk: Any) -> None:
    """Load the checkpoint, encode the test split and write the latent-space PNG."""
    log = script_logging(smk.log[0])
    p = smk.params
    model, meta = load_checkpoint(smk.input.model, device="cpu")
    x = Transform.load(smk.input.transform).forward(pd.read_parquet(smk.input.test))
    points = latent_points(model, x, seed=p.seed, model_type=str(meta.get("type", p.model)))
    plot_latent(points, path=smk.output.plot, title=f"{p.dataset}: {p.model}")
    log.info("wrote %s (%d latent dimensions)", smk.output.plot, points.mu.shape[1])


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
