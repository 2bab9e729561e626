"""Benchmark: training throughput of each default model with hepgen's loop (``model.fit``)
against a plain PyTorch ``DataLoader(TensorDataset(...), shuffle=True)`` loop in the same run.

Both loops train a freshly built copy of the same model (same initial weights, Adam settings,
loss and batch size ``B`` of its config entry) on the same events, on CPU with
one torch thread. Each loop timestamps every optimiser step with the process's CPU time (the
loops are single-threaded and do no I/O, so on an idle machine this is the wall time, and on a
shared one it is not inflated by other processes); an epoch's rate is its events after the
first batch over the time from the end of the first step to the end of the last.
So the work around the steps (validation, the sampled selection metric, history, progress
bar, checkpoints) is excluded from both loops, while batch assembly, shuffling, the steps and
the per-step loss bookkeeping are included. The loops alternate in ``rounds`` (hepgen, then
DataLoader, then again) and each row reports the best epoch of each loop (the one least
disturbed by other processes), in events per second. hepgen's CPU loop sets glibc's malloc
thresholds for the process (``hepgen.devices.retain_freed_memory``); it runs first in
every round, so the DataLoader loop runs with the same allocator settings.

The baseline is an ordinary user loop: ``DataLoader(TensorDataset(x), batch_size=B,
shuffle=True)`` (default ``num_workers=0``), then ``zero_grad()``,
``model.loss(xb)["loss"].backward()`` and ``step()`` per batch of
``torch.optim.Adam(model.parameters(), lr, weight_decay=...)``, PyTorch's default Adam (a
per-tensor loop on the CPU), where hepgen's loop uses its fused Adam
(``hepgen.models.step.adam``); for the GAN, whose update has two players and a gradient
penalty, the model's own ``train_step`` and optimisers on the DataLoader's batches. The Bayesian Gaussian mixture is fitted by EM, not by a gradient loop: its row
reports the rate of ``fit`` (events / seconds of the whole fit) with itself as baseline.

With ``training.compile`` the loop is measured a second time: the loss and its gradient are
compiled once per fit (TorchInductor), and that one-off compilation, in the first step, is
excluded from the rate like every first step and printed separately (seconds from the
start of ``fit`` to the end of its first step). Models with their own step (the GAN) have
no compiled row.

Usage: python bench/training.py [--events 30000] [--epochs 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_config, default_models, default_transform, dy_table  # noqa: E402

BASELINE = "DataLoader(TensorDataset)"
BGMM_EVENTS = 20_000
"""Events of the mixture fit (its EM on all events would dominate the benchmark's time)."""


SMALL_MLP = {
    "name": "vae-small (hidden 32, 2 layers)",
    "type": "vae",
    "params": {"latent": 4, "hidden": 32, "layers": 2, "beta": 1.0e-6},
}
"""A small MLP, where the cost of assembling batches rather than the network decides the rate."""


def train_config(entry: dict, epochs: int, compile: bool = False):
    """The default ``training`` options with the entry's overrides, on CPU, ``epochs`` epochs."""
    from hepgen.training import TrainConfig

    options = {**default_config()["training"], **entry.get("training", {})}
    options |= {"epochs": epochs, "device": "cpu", "seed": 0, "select_by": "val_loss"}
    options |= {"select_every": epochs, "checkpoint_every": 0, "compile": compile}
    return TrainConfig.from_dict(options)


def build_model(entry: dict, features: int):
    from hepgen.models import build

    return build(entry["type"], features, entry.get("params", {}), seed=0)


class StepClock:
    """Records the process's CPU time after every optimiser step, by epoch."""

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {}
        self.start = time.perf_counter()
        self.first = 0.0

    def __call__(self, epoch: int, batch: int) -> None:
        if not self.times:  # wall time: the compiler also runs in other processes
            self.first = time.perf_counter() - self.start
        self.times.setdefault(epoch, []).append(time.process_time())

    def rates(self, events: int, batch_size: int) -> list[float]:
        """Per epoch: (events after the first batch) / (last step end - first step end) [1/s]."""
        return [(events - batch_size) / (t[-1] - t[0]) for t in self.times.values()]


def hepgen_rates(
    entry: dict, train: np.ndarray, val: np.ndarray, epochs: int, compile: bool = False
) -> tuple[list[float], float]:
    """Per-epoch step rates of ``model.fit``, the shared loop [events/s], and the wall
    seconds to the end of its first step (with ``compile``: the compilation)."""
    config = train_config(entry, epochs, compile)
    model = build_model(entry, train.shape[1])
    clock = StepClock()
    from hepgen.training import train_model

    train_model(model, train, val, config, callback=clock)
    return clock.rates(len(train), config.batch_size), clock.first


def dataloader_rates(entry: dict, train: np.ndarray, epochs: int) -> list[float]:
    """Per-epoch step rates of a plain ``DataLoader(TensorDataset)`` loop [events/s]."""
    from hepgen.models.step import StepContext
    from hepgen.seeds import derive_seed

    config = train_config(entry, epochs)
    model = build_model(entry, train.shape[1])
    own_step = entry["type"] == "gan"
    optimizers = (
        model.optimizers(lr=config.lr, weight_decay=config.weight_decay) if own_step else {}
    )
    generator = torch.Generator().manual_seed(derive_seed(config.seed, "noise"))
    loader = DataLoader(
        TensorDataset(torch.as_tensor(train)), batch_size=config.batch_size, shuffle=True
    )
    ctx = StepContext("cpu", None, None, generator)
    # what a user writes: PyTorch's default Adam (a per-tensor loop on the CPU), same settings
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    clock = StepClock()
    model.train()
    for epoch in range(1, epochs + 1):
        for i, (xb,) in enumerate(loader):
            if own_step:
                model.train_step(xb, None, optimizers, ctx)
                ctx.step += 1
            else:
                optimizer.zero_grad()
                model.loss(xb, generator=generator)["loss"].backward()
                optimizer.step()
            clock(epoch, i)
    return clock.rates(len(train), config.batch_size)


def bgmm_rate(entry: dict, train: np.ndarray, val: np.ndarray) -> float:
    """Rate of the mixture's ``fit`` on ``train`` (process CPU time) [events/s]."""
    model = build_model(entry, train.shape[1])
    from hepgen.training import train_model

    start = time.process_time()
    train_model(model, train, val, train_config(entry, 1))
    return len(train) / (time.process_time() - start)


def run(events: int = 30_000, epochs: int = 2, rounds: int = 3) -> list[dict]:
    torch.set_num_threads(1)
    table = dy_table(events + events // 8)
    transform = default_transform(table)
    data = np.asarray(transform.forward(table), dtype=np.float32)
    train, val = data[:events], data[events:]
    rows = []
    for entry in [*default_models(), SMALL_MLP]:
        name = entry["name"]
        if entry["type"] == "bgmm":
            rate = bgmm_rate(entry, train[:BGMM_EVENTS], val)
            rows.append(
                {
                    "benchmark": f"train {name}, EM fit of {BGMM_EVENTS} events [events/s]",
                    "value": rate,
                    "baseline": rate,
                    "baseline_name": "itself: no gradient loop, no DataLoader baseline",
                    "goal": "-",
                }
            )
            continue
        compiles = entry["type"] != "gan"  # the GAN's own step runs eagerly
        ours, compiled, base, first = [], [], [], []
        for _ in range(rounds):
            ours += hepgen_rates(entry, train, val, epochs)[0]
            if compiles:
                rates, seconds = hepgen_rates(entry, train, val, epochs, compile=True)
                compiled += rates
                first.append(seconds)
            base += dataloader_rates(entry, train, epochs)
        goal = ">= 3x" if entry["type"] in {"vae", "bvae", "avae"} else "-"
        loops = [("hepgen loop", ours)]
        if compiles:
            loops.append(("hepgen loop, training.compile", compiled))
            print(
                f"{name}: compilation (first step) {min(first):.1f}-{max(first):.1f} s wall",
                file=sys.stderr,
            )
        rows += [
            {
                "benchmark": f"train {name}, {loop} [events/s]",
                "value": max(rates),
                "baseline": max(base),
                "baseline_name": BASELINE,
                "goal": goal,
            }
            for loop, rates in loops
        ]
    return rows


def main() -> None:
    from run import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per round and loop")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print_table(run(args.events, args.epochs, args.rounds))


if __name__ == "__main__":
    main()
