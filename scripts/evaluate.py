"""Snakemake adapter: judge one model's generated events against the test split."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from hepgen.metrics import evaluate, summary, write_metrics
from hepgen.preprocessing import Transform
from hepgen.provenance import provenance
from hepgen.runtime import script_logging


def main(smk: Any) -> None:
    """Read samples, test split and features; write the metrics JSON."""
    log = script_logging(smk.log[0])
    p = smk.params
    features = Transform.load(smk.input.transform).features
    truth = pd.read_parquet(smk.input.test)
    generated = pd.read_parquet(smk.input.samples)
    with threadpool_limits(limits=max(1, int(smk.threads))):
        metrics = evaluate(
            truth, generated, features=list(features), seed=p.seed, classifier=p.classifier
        )
    log.info("%s/%s: %s", p.dataset, p.model, summary(metrics))
    record = {
        **metrics,
        "model": p.model,
        "dataset": p.dataset,
        "provenance": provenance(p.config, p.seed),
    }
    write_metrics(smk.output.metrics, record)


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
