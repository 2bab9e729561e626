"""Snakemake adapter: judge one model's generated events against the test split."""

# No `from __future__` import: Snakemake's script directive puts its preamble first.
import os

# Idle OpenMP threads of the boosted trees sleep instead of spinning: on shared cores a
# spinning thread pool slows the classifier down tenfold. Must be set before sklearn loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from hepgen.condition_rows import judged_truth, sample_region  # noqa: E402
from hepgen.logs import script_logging
from hepgen.metrics import evaluate, sampling_record, summary, write_metrics  # noqa: E402
from hepgen.preprocessing import Transform  # noqa: E402
from hepgen.preprocessing.condition import condition_values  # noqa: E402
from hepgen.provenance import provenance  # noqa: E402


def with_conditions(
    tables: tuple[pd.DataFrame, ...], names: list[str], transform: Transform
) -> tuple[pd.DataFrame, ...]:
    """Each table with every condition it lacks as a column (learned coordinates and derived
    observables computed from its events; a sample's ``condition_<name>`` is what was asked)."""
    out = []
    for table in tables:
        missing = [n for n in names if n not in table.columns]
        if missing:
            values = condition_values(table, missing, transform)
            table = pd.concat([table, values.set_axis(table.index)], axis=1)
        out.append(table)
    return tuple(out)


def main(smk: Any) -> None:
    """Read samples, test and training splits and the transform; write the metrics JSON."""
    log = script_logging(smk.log[0])
    p = smk.params
    transform = Transform.load(smk.input.transform)
    truth = pd.read_parquet(smk.input.test)
    generated = pd.read_parquet(smk.input.samples)
    generated, excluded = transform.exclude_unusable(generated)  # excluded from every metric
    train = pd.read_parquet(smk.input.train)
    condition = list(p.condition or [])
    if condition:
        truth, generated, train = with_conditions((truth, generated, train), condition, transform)
    region = sample_region(p.sample_condition) if condition else None
    if region:  # a targeted sample is judged against the truth inside its region
        truth, train = (judged_truth(t, region, transform) for t in (truth, train))
        log.info("judged against the %d test events in the region %s", len(truth), region)
    info = json.loads(Path(smk.input.info).read_text())
    with threadpool_limits(limits=max(1, int(smk.threads))):
        metrics = evaluate(
            truth,
            generated,
            features=list(transform.columns),  # physical columns, reference angle included
            seed=p.seed,
            options=p.options,
            train=train,
            embed=transform.forward,
            model=f"{p.dataset}/{p.model}",
            condition=condition,
        )
    log.info("%s/%s: %s", p.dataset, p.model, summary(metrics))
    log.info("seconds per metric: %s", metrics["seconds"])
    if "refine" in info:  # a reweighted sample: the data-copying test takes no weights
        metrics["memorisation"]["weighted"] = False
        metrics["refine"] = info["refine"]
    record = {
        **metrics,
        "sampling": sampling_record(info),
        "excluded": excluded,
        "region": region,  # the figures compare with the same truth rows
        "model": p.model,
        "dataset": p.dataset,
        "provenance": provenance(p.config, p.seed),
    }
    write_metrics(smk.output.metrics, record)


main(snakemake)  # noqa: F821 - defined by Snakemake's script directive
