"""Snakemake adapter: a fast simulation's resolution and efficiency per gen pT and |eta| bin."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import json
from pathlib import Path
from typing import Any

from hepgen.errors import HepgenError
from hepgen.logs import script_logging
from hepgen.plotting.response import plot_response
from hepgen.simulate.detector import known_response_resolution


def main(smk: Any) -> None:
    """Read the metrics JSON's `response` section; draw it beside the detector's own curve."""
    log = script_logging(smk.log[0])
    p = smk.params
    metrics = json.loads(Path(smk.input.metrics).read_text())
    if "response" not in metrics:
        msg = f"{smk.input.metrics} has no 'response' section: is {p.model} conditioned on a pairs dataset?"
        raise HepgenError(msg)
    known = None
    if p.simulate:
        known = known_response_resolution(p.simulate, p.gen_prefix)
    plot_response(
        metrics["response"],
        path=smk.output.plot,
        title=f"{p.dataset}: {p.model}",
        model=p.model,
        known=known,
    )
    summary = metrics["response"]["summary"]
    log.info(
        "wrote %s (worst resolution deviation %s)", smk.output.plot, summary["worst_deviation"]
    )


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
