"""Benchmark: streamed training's memory and speed do not grow with the training split.

Writes DY-like training splits of 10⁶ and 10⁷ events (the ten physical columns of the default
dataset, :func:`common.dy_table`, float32, in Parquet row groups of ``--row-group`` events;
10⁷ events are 0.4 GB) and a validation split of 10⁴ events. For each size, two fresh
processes measure, on CPU with one torch thread:

1. ``fit``: the transform of the default config fitted in one streaming pass
   (:func:`hepgen.preprocessing.streaming.fit_streaming`, a sample of ``--sample`` events):
   CPU seconds, peak RSS, and the measured rank error of a 1000-quantile map of ``met`` fitted on
   the same sample against the exact ranks over the whole file, beside its DKW bound.
2. ``train``: ``--steps`` optimiser steps of the default-config VAE through
   :func:`hepgen.training.train_model` with ``training.stream_buffer = --buffer``: the CPU
   seconds before the first step (the scan: checks, weights, reservoir, hash, one pass over
   the file), then events per CPU second over the steps after the first 20 (reading,
   transforming, shuffling and training together, every thread of the process counted), and
   the peak RSS of the whole process (``ru_maxrss``). CPU time rather than wall time, as the
   machine may be shared; the wall-time rate is in the JSON line each child prints. Each
   training row is the best of ``--repeats`` fresh processes (the one least disturbed by
   other processes), run in rounds over all rows so that every row sees the same load, as
   in ``bench/training.py``.

With ``--memory`` the 10⁶ split is also trained in memory (the file read and transformed at
once) for comparison. Targets: the 10⁷ row within 1.3x the RSS and 20 % of the events/s of
the 10⁶ row.

Usage: python bench/out_of_core.py [--sizes 1000000 10000000] [--steps 300] [--buffer 100000]
       [--row-group 65536] [--sample 1000000] [--repeats 3] [--dir /tmp/hepgen-out-of-core]
       [--memory]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import default_config, dy_table

SEED = 11


def write_split(path: Path, n: int, row_group: int) -> None:
    """``n`` DY-like events as float32 in row groups of ``row_group``, written chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
        return
    writer = None
    for i, lo in enumerate(range(0, n, row_group)):
        table = dy_table(min(row_group, n - lo), seed=SEED + i).astype(np.float32)
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, arrow.schema, compression="snappy")
        writer.write_table(arrow, row_group_size=row_group)
    writer.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def transform_of(columns: list[str]):
    from hepgen.preprocessing import Transform

    pre = default_config()["preprocess"]
    return Transform.from_rules(columns, pre["transforms"], phi=pre.get("phi"))


def fit(path: Path, out: Path, sample: int) -> dict:
    """Child: the streaming transform fit, and the rank error of a quantile map fitted alike."""
    import pyarrow.parquet as pq

    from hepgen.preprocessing.elementary import Quantile
    from hepgen.preprocessing.sampling import dkw_bound
    from hepgen.preprocessing.streaming import sample_file

    start = time.process_time()
    table, events = sample_file(path, sample, seed=SEED)
    transform = transform_of(list(table.columns)).fit(table)
    seconds = time.process_time() - start
    transform.save(out)
    rss = peak_rss_mb()
    quantile = Quantile(1000).fit(table["met"].to_numpy(np.float64), "met")
    met = np.sort(pq.read_table(path, columns=["met"])["met"].to_numpy().astype(np.float64))
    ranks = np.searchsorted(met, quantile.values) / len(met)
    error = float(np.abs(ranks - np.asarray(quantile.references)).max())
    bound = dkw_bound(sample) if events > sample else 0.0
    return {"fit_s": seconds, "fit_rss_mb": rss, "rank_error": error, "rank_bound": bound}


def train(path: Path, val: Path, transform_path: Path, args: argparse.Namespace) -> dict:
    """Child: ``args.steps`` steps of the default VAE on the streamed (or in-memory) split."""
    import pandas as pd
    import torch

    from hepgen.models import build
    from hepgen.preprocessing import Transform
    from hepgen.training import TrainConfig, train_model
    from hepgen.training.stream import EventStream, transform_prepare

    torch.set_num_threads(1)
    transform = Transform.load(transform_path)
    entry = next(m for m in default_config()["models"] if m["type"] == "vae")
    model = build("vae", len(transform.features), entry.get("params", {}), seed=SEED)
    config = TrainConfig(
        epochs=1,
        batch_size=args.batch,
        device="cpu",
        seed=SEED,
        select_by="val_loss",
        checkpoint_every=0,
        stream_buffer=0 if args.memory_run else args.buffer,
    )
    start = time.process_time(), time.perf_counter()
    if args.memory_run:
        events = transform.forward(pd.read_parquet(path), log_outside=False)
    else:
        events = EventStream(path, transform_prepare(transform), buffer=args.buffer)
    times: dict[int, tuple[float, float]] = {}

    class Done(Exception):
        pass

    def callback(epoch: int, step: int) -> None:
        if step in (0, 20, args.steps):
            times[step] = time.process_time(), time.perf_counter()
        if step == args.steps:
            raise Done

    vdata = transform.forward(pd.read_parquet(val), log_outside=False)
    try:
        train_model(model, events, vdata, config, callback=callback)
    except Done:
        pass
    events = (args.steps - 20) * args.batch
    cpu, wall = (events / (times[args.steps][i] - times[20][i]) for i in (0, 1))
    return {
        "start_s": times[0][0] - start[0],
        "events_per_s": cpu,
        "wall_events_per_s": wall,
        "train_rss_mb": peak_rss_mb(),
    }


def child(args: argparse.Namespace, *extra: str) -> dict:
    command = [sys.executable, __file__, *extra, *sys.argv[1:]]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--buffer", type=int, default=100_000)
    parser.add_argument("--row-group", type=int, default=65_536)
    parser.add_argument("--sample", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hepgen-out-of-core"))
    parser.add_argument("--repeats", type=int, default=3, help="training runs per row (best kept)")
    parser.add_argument("--memory", action="store_true", help="also train the first size in memory")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.memory_run = False
    args.dir.mkdir(parents=True, exist_ok=True)
    val = args.dir / "val.parquet"
    if args.child:
        role, path = args.child[0], Path(args.child[1])
        transform_path = path.with_suffix(".transform.json")
        if role == "fit":
            result = fit(path, transform_path, args.sample)
        else:
            args.memory_run = role == "memory"
            result = train(path, val, transform_path, args)
        print(json.dumps(result))
        return
    write_split(val, 10_000, args.row_group)
    fits, cases = {}, []
    for n in args.sizes:
        path = args.dir / f"train-{n}.parquet"
        write_split(path, n, args.row_group)
        fits[n] = {"events": n, **child(args, "--child", "fit", str(path))}
        cases += [(n, "stream")] + ([(n, "memory")] if args.memory and n == args.sizes[0] else [])
    runs: dict[tuple[int, str], list[dict]] = {case: [] for case in cases}
    for _ in range(args.repeats):  # rounds over every case, so that all see the same load
        for n, mode in cases:
            role = "train" if mode == "stream" else "memory"
            runs[n, mode].append(child(args, "--child", role, str(args.dir / f"train-{n}.parquet")))
    print(
        f"{'events':>10} {'mode':>7} {'fit s':>6} {'fit RSS':>8} {'rank err':>9} {'bound':>7} "
        f"{'start s':>8} {'train RSS':>10} {'events/s':>9}  (per run)"
    )
    rows = {}
    for n, mode in cases:
        best = max(runs[n, mode], key=lambda r: r["events_per_s"])  # the least disturbed run
        row = rows[n, mode] = {**fits[n], **best}
        each = " ".join(f"{r['events_per_s']:.0f}" for r in runs[n, mode])
        print(
            f"{n:>10} {mode:>7} {row['fit_s']:>6.1f} {row['fit_rss_mb']:>6.0f}MB "
            f"{row['rank_error']:>9.5f} {row['rank_bound']:>7.4f} {row['start_s']:>8.1f} "
            f"{row['train_rss_mb']:>8.0f}MB {row['events_per_s']:>9.0f}  ({each})"
        )
    if len(args.sizes) > 1:
        small, large = rows[args.sizes[0], "stream"], rows[args.sizes[-1], "stream"]
        rss = large["train_rss_mb"] / small["train_rss_mb"]
        speed = large["events_per_s"] / small["events_per_s"]
        print(
            f"largest / smallest split: train RSS x{rss:.2f} (target <= 1.3), "
            f"events/s x{speed:.2f} (target >= 0.8)"
        )


if __name__ == "__main__":
    main()
