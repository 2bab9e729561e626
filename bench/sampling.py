"""Benchmark: events/s of each default model, latent draw → physical units → Parquet, against
Pythia8 + detector generation of the same process (dy_ll) and of tt̄ in the same run.

Also measures the machine's fp32 matmul throughput and the fraction of it the sampling
network reaches (FLOPs counted with ``torch.utils.flop_counter``), and the network with
hepgen's C kernels against the torch code they replace.

Usage: python bench/sampling.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_models, default_transform, dy_table  # noqa: E402


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best fp32 matmul throughput of this process [GFLOP/s]."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pythia_rate(process: str, events: int) -> float:
    from hepgen.simulate import simulate

    _, stats = simulate(process, events=events, seed=1)
    return stats["rate_hz"]


def trained_like(entry: dict, transform, train: np.ndarray):
    """A model of the default entry, one short epoch, ready to sample (speed, not quality)."""
    from hepgen.models import build
    from hepgen.training import TrainConfig, train_model

    model = build(entry["type"], len(transform.features), entry.get("params", {}), seed=0)
    config = TrainConfig.from_dict(
        {"epochs": 1, "batch_size": 1024, "seed": 0, "device": "cpu", "select_by": "val_loss"}
    )
    train_model(model, train, train[:2048], config)
    return model.eval()


def sampling_flops(model, batch: int = 4096) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        model.sample(batch, torch.Generator().manual_seed(0))
    return counter.get_total_flops() / batch


def to_parquet_rate(model, transform, events: int, workers: int) -> float:
    """Events/s from the latent draw to a Parquet file in physical units, repair included."""
    from hepgen.sampling import write_samples

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_samples(
            Path(tmp) / "s.parquet",
            model,
            events,
            seed=0,
            batch_size=100_000,
            inverse=lambda x, rng: transform.inverse(x, rng=rng),
            postprocess=transform.postprocess,
            workers=workers,
        )
        return events / (time.perf_counter() - start)


def stage_seconds(model, transform, events: int = 200_000) -> dict[str, float]:
    """Seconds per 10^6 events of each sampling stage, one thread, 100k-event batches."""
    from hepgen.io import write_table
    from hepgen.sampling import CPU_CHUNK, _network_draw

    rng, generator = np.random.default_rng(0), torch.Generator().manual_seed(0)
    times = dict.fromkeys(("network", "inverse", "repair", "parquet"), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for lo in range(0, events, 100_000):
            t0 = time.perf_counter()
            with torch.inference_mode():
                x = _network_draw(model, 100_000, generator, CPU_CHUNK).numpy()
            t1 = time.perf_counter()
            table = transform.inverse(x, rng=rng)
            t2 = time.perf_counter()
            table, _ = transform.postprocess(table)
            t3 = time.perf_counter()
            write_table(table, Path(tmp) / f"{lo}.parquet")
            t4 = time.perf_counter()
            for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[key] += dt * 1e6 / events
    return times


def network_rates(model, batch: int = 100_000, rounds: int = 5) -> tuple[float, float]:
    """Best events/s of the latent draw and network, one thread, with the C kernels and with
    the torch code they replace (alternating, so both see the same machine). Models that use
    no kernels (the BGMM) measure the noise of this comparison: their ratio should be 1."""
    from hepgen.models.kernels import torch_only
    from hepgen.sampling import CPU_CHUNK, _network_draw

    generator = torch.Generator().manual_seed(0)
    best = {"kernels": 0.0, "torch": 0.0}
    with torch.inference_mode():
        _network_draw(model, batch, generator, CPU_CHUNK)  # warm-up: allocations, first calls
        for _ in range(rounds):
            for name in best:
                with torch_only() if name == "torch" else contextlib.nullcontext():
                    seconds = _timed(lambda: _network_draw(model, batch, generator, CPU_CHUNK))
                best[name] = max(best[name], batch / seconds)
    return best["kernels"], best["torch"]


def run(events: int = 1_000_000, workers: int = 2) -> list[dict]:
    from hepgen.sampling import CPU_CHUNK

    torch.set_num_threads(1)
    table = dy_table(50_000)
    transform = default_transform(table)
    train = transform.forward(table)
    dy = pythia_rate("dy_ll", 400)
    tt = pythia_rate("ttbar_semilep", 200)
    peak = matmul_gflops()
    rows = [
        {
            "benchmark": "Pythia8+detector dy_ll [events/s]",
            "value": dy,
            "baseline": tt,
            "baseline_name": "Pythia8 ttbar_semilep",
            "goal": "-",
        },
        {
            "benchmark": "fp32 matmul, 1 thread [GFLOP/s]",
            "value": peak,
            "baseline": peak,
            "baseline_name": "itself",
            "goal": "-",
        },
    ]
    for entry in default_models():
        model = trained_like(entry, transform, train)
        name = entry["name"]
        goal = ">= 1e6 events/s and >= 5000x" if entry["type"] in {"bvae", "flow"} else "-"
        for n_workers in sorted({1, workers}):
            rows.append(
                {
                    "benchmark": f"sample {name}, {n_workers} worker(s), to Parquet [events/s]",
                    "value": to_parquet_rate(model, transform, events, n_workers),
                    "baseline": tt,
                    "baseline_name": "Pythia8 ttbar_semilep",
                    "goal": goal if n_workers == workers else "-",
                }
            )
        stages = stage_seconds(model, transform)
        print(
            f"{name}: seconds per 1e6 events, 1 thread: "
            + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()),
            file=sys.stderr,
        )
        fused, plain = network_rates(model)
        rows.append(
            {
                "benchmark": f"sample {name}, network with C kernels, 1 thread [events/s]",
                "value": fused,
                "baseline": plain,
                "baseline_name": "the torch code, same run",
                "goal": "-",
            }
        )
        flops = sampling_flops(model, CPU_CHUNK)
        rows.append(
            {
                "benchmark": f"sample {name}, network only, 1 thread [GFLOP/s]",
                "value": flops * fused / 1e9,
                "baseline": peak,
                "baseline_name": "fp32 matmul peak, 1 thread",
                "goal": "fraction of the machine",
            }
        )
    return rows


def main() -> None:
    from run import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="sampling threads (cores)")
    args = parser.parse_args()
    print_table(run(args.events, args.workers))


if __name__ == "__main__":
    main()
