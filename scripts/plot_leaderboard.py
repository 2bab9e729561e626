"""Snakemake adapter: collect every model's metrics into the leaderboard tables and figure."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

from hepgen.logs import script_logging
from hepgen.plotting.leaderboard import load_records, plot_leaderboard, write_leaderboard


def main(smk: Any) -> None:
    """Read the metrics JSON files; write leaderboard CSV, Markdown, LaTeX and PNG."""
    log = script_logging(smk.log[0])
    records = load_records(
        list(smk.input.metrics), datasets=smk.params.datasets, models=smk.params.models
    )
    table = write_leaderboard(records, smk.output.csv, smk.output.md, smk.output.tex)
    plot_leaderboard(table, path=smk.output.plot)
    log.info("leaderboard of %d models:\n%s", len(table), table.to_string(index=False))


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
