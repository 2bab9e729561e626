"""Benchmark: the full evaluation of one model (every metric, 30 bootstrap resamples) on 1e5
test events, as the ``evaluate_model`` rule runs it, with its breakdown per metric group.

Inputs are DY-like tables from ``bench/common.py``: 1e5 test events, 3e5 training events (the
default 60/20 train/test split; both with the unit ``weight`` column of the simulated splits)
and 1e5 "generated" events, an independent draw perturbed by a 2 % pT scale, a 0.05 eta
smear and a 5 % MET scale (a good but imperfect generator). The
evaluation is :func:`hepgen.metrics.evaluate` with the config section ``evaluate`` of
``config/config.yaml``, the default transform's columns and its ``forward`` (the data-copying
test), inside ``threadpool_limits(resources.evaluate.threads)`` like ``scripts/evaluate.py``.
The breakdown is the record's ``seconds``: the 1D families (W1/sigma of features and
observables, KS, separation power, chi2/ndf, quantile MSE*, tails) share one pass per column
and are timed together as ``marginals``; then ``spearman``, ``auc``, ``fpd_kpd``,
``memorisation`` and the rest (input checks, observables, valid fractions).

Baseline: one fit of the two-sample classifier (``HistGradientBoostingClassifier`` with the
config options, unit weights) on data like the evaluation's first fit: half of each of the
5e4-event truth half and the 5e4 compared generated events, features and observables, with
2 threads; the median of three fits before and three after the evaluation. It is the step
the evaluation cannot avoid, and it runs twice (value and floor), so ``ratio`` (total / one
fit) tells how much the rest costs independently of how busy the shared machine is. The
goal is the absolute ``total <= 60 s``.

Usage: .venv/bin/python bench/evaluation.py [--events 100000] [--repeat 1] [--profile out.prof]
"""

from __future__ import annotations

import os

# As in scripts/evaluate.py: idle OpenMP threads sleep (must be set before sklearn loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_config, default_transform, dy_table  # noqa: E402


def generated_like(truth: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A slightly wrong copy of a DY-like table: pT scale, eta smear, MET scale (physical units)."""
    rng = np.random.default_rng(seed)
    out = truth.copy()
    for k in (1, 2):
        out[f"mu{k}_pt"] *= 1.02
        out[f"mu{k}_eta"] += rng.normal(0.0, 0.05, len(out))
        out[f"mu{k}_e"] = out[f"mu{k}_pt"] * np.cosh(out[f"mu{k}_eta"])
    out["met"] *= 1.05
    return out


def inputs(events: int) -> dict:
    """Test, generated and training tables as the rule reads them (physical units)."""
    test = dy_table(events, seed=11)
    generated = generated_like(dy_table(events, seed=12), seed=13)
    train = dy_table(3 * events, seed=14)
    for split in (test, train):  # the splits carry the unit weights of the simulated dataset
        split["weight"] = 1.0
    return {"truth": test, "generated": generated, "train": train}


def classifier_fit_seconds(data: dict, options: dict, seed: int, repeat: int = 3) -> list[float]:
    """Times of ``repeat`` classifier fits on data like the evaluation's first fit [s]."""
    from hepgen.metrics.classifier import make_classifier
    from hepgen.preprocessing.observables import observables

    columns = list(data["transform"].columns)
    rng = np.random.default_rng(seed)
    half = len(data["truth"]) // 2
    frames = []
    for role in ("truth", "generated"):
        table = data[role]
        values = np.column_stack([table[columns].to_numpy(), observables(table).to_numpy()])
        frames.append(values[rng.permutation(len(values))[: half // 2]])
    x = np.concatenate(frames)
    y = np.concatenate([np.zeros(len(frames[0])), np.ones(len(frames[1]))])
    opts = dict(options.get("classifier") or {})
    max_iter = opts.pop("max_iter", 100)
    times = []
    for _ in range(repeat):
        model = make_classifier(seed=seed, max_iter=max_iter, options=opts)
        start = time.perf_counter()
        model.fit(x, y)
        times.append(time.perf_counter() - start)
    return times


def evaluate_once(data: dict, options: dict, seed: int) -> dict:
    """The evaluation as ``scripts/evaluate.py`` runs it; the metrics record."""
    from hepgen.metrics import evaluate

    transform = data["transform"]
    return evaluate(
        data["truth"],
        data["generated"],
        features=list(transform.columns),
        seed=seed,
        options=options,
        train=data["train"],
        embed=transform.forward,
        model="bench/generated",
    )


def run(events: int = 100_000, repeat: int = 1, profile: str | None = None) -> list[dict]:
    import torch

    config = default_config()
    options = config["evaluate"]
    threads = int(config["resources"]["evaluate"]["threads"])
    seed = 0
    torch.set_num_threads(threads)
    data = inputs(events)
    data["transform"] = default_transform(data["train"].drop(columns="weight"))
    rows = []
    with threadpool_limits(limits=threads):
        for _ in range(repeat):
            before = classifier_fit_seconds(data, options, seed)
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                metrics = profiler.runcall(evaluate_once, data, options, seed)
                profiler.dump_stats(profile)
            else:
                metrics = evaluate_once(data, options, seed)
            # A fit is short, so one is easily hit by the other jobs on the machine: the
            # median of three fits before and three after the evaluation.
            fit = float(np.median(before + classifier_fit_seconds(data, options, seed)))
            seconds = metrics["seconds"]
            print(
                "breakdown [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()),
                file=sys.stderr,
            )
            print(
                f"auc {metrics['auc']['value']:.4f} (floor {metrics['auc']['floor']:.4f}), "
                f"fpd {metrics['fpd']['value']:.3g}, w1 mean {metrics['w1']['mean']['value']:.4f}",
                file=sys.stderr,
            )
            label = f"{events:.0e} test events"
            rows.append(
                {
                    "benchmark": f"evaluate, all metrics, {label} [s]",
                    "value": seconds["total"],
                    "baseline": fit,
                    "baseline_name": "one classifier fit on the same data",
                    "goal": "<= 60 s",
                }
            )
            parts = {k: v for k, v in seconds.items() if k != "total"}
            parts["other (checks, observables)"] = seconds["total"] - sum(parts.values())
            for part, value in parts.items():
                rows.append(
                    {
                        "benchmark": f"  evaluate: {part} [s]",
                        "value": value,
                        "baseline": fit,
                        "baseline_name": "one classifier fit on the same data",
                        "goal": "-",
                    }
                )
    return rows


def main() -> None:
    from run import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", help="write cProfile statistics of the evaluation here")
    args = parser.parse_args()
    print_table(run(args.events, args.repeat, args.profile))


if __name__ == "__main__":
    main()
