"""The GPU path: training with and without mixed precision, sampling rate, and their fidelity.

Three steps, so that the machine with the GPU needs only Python, torch and numpy (no uproot,
pandas, scikit-learn, snakemake or pythia8mc, and no network):

1. ``python bench/gpu.py prepare results/<dataset> gpu.npz`` (here, after a workflow run): the
   transformed training, validation and test events of a dataset, float32.
2. ``python bench/gpu.py run gpu.npz OUT`` (on the GPU machine, from the repository root): for
   each model type (default ``flow cfm``) and AMP off/on, trains ``--epochs`` epochs with the
   models' own optimiser step (fp32, or bf16/fp16 autocast with the scaler fp16 needs), then
   draws ``--sample`` events (default 10⁷) in batches; writes ``OUT/gpu.json`` (training and
   sampling events/s, peak GPU memory, losses) and ``OUT/<type>-amp<0|1>.npy`` (the first 10⁵
   generated events, transformed).
3. ``python bench/gpu.py evaluate results/<dataset> OUT`` (here): the classifier AUC − floor
   and the resonance W1 ÷ floor of each returned sample against the test split, printed as a
   Markdown table with the speeds.

``run`` works on the CPU too (``--device cpu``), which is how the tests keep it working.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAVED = 100_000


def prepare(directory: Path, out: Path) -> None:
    """Write the transformed splits of ``directory`` (``results/<dataset>``) to ``out``."""
    import pandas as pd

    from hepgen.preprocessing import Transform

    transform = Transform.load(directory / "split" / "transform.json")
    arrays = {
        split: transform.forward(pd.read_parquet(directory / "split" / f"{split}.parquet"))
        for split in ("train", "val", "test")
    }
    np.savez(out, **arrays, features=np.array(transform.features))
    print(f"wrote {out}: " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def run_one(model_type: str, amp: bool, data: dict, args: argparse.Namespace) -> dict:
    """Train one model with or without AMP, then time sampling; return the figures."""
    import torch

    from hepgen.models import build
    from hepgen.models.step import StepContext

    device = args.device
    train = torch.as_tensor(data["train"], device=device)
    model = build(model_type, train.shape[1], seed=args.seed).to(device)
    dtype, scaler = None, None
    if amp and device == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    optimizers = model.optimizers(lr=args.lr, weight_decay=0.0)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    ctx = StepContext(device, dtype, scaler, generator)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    model.train()
    _sync(device)
    start, losses = time.perf_counter(), []
    for _ in range(args.epochs):
        order = torch.randperm(len(train), generator=generator, device=device)
        total = 0.0
        for i in range(0, len(train) - args.batch_size + 1, args.batch_size):
            parts = model.train_step(train[order[i : i + args.batch_size]], None, optimizers, ctx)
            ctx.step += 1
            total += float(parts["loss"])
        losses.append(total / max(1, len(train) // args.batch_size))
    _sync(device)
    train_seconds = time.perf_counter() - start
    seen = args.epochs * (len(train) // args.batch_size) * args.batch_size
    model.eval()
    model.prepare_sampling(train, seed=args.seed)
    draw = torch.Generator(device=device).manual_seed(args.seed + 1)
    kept, done = [], 0
    _sync(device)
    start = time.perf_counter()
    with (
        torch.no_grad(),
        torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None),
    ):
        while done < args.sample:
            n = min(args.sample_batch, args.sample - done)
            x = model.sample(n, draw)
            if sum(len(k) for k in kept) < SAVED:
                kept.append(x[: SAVED - sum(len(k) for k in kept)].float().cpu())
            done += n
    _sync(device)
    sample_seconds = time.perf_counter() - start
    events = torch.cat(kept).numpy()
    np.save(args.out / f"{model_type}-amp{int(amp)}.npy", events)
    return {
        "type": model_type,
        "amp": amp,
        "autocast": None if dtype is None else str(dtype).removeprefix("torch."),
        "train_events_per_s": seen / train_seconds,
        "train_seconds": train_seconds,
        "losses": losses,
        "sample_events_per_s": args.sample / sample_seconds,
        "sampled": args.sample,
        "finite_fraction": float(np.isfinite(events).all(axis=1).mean()),
        "peak_memory_mib": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None,
    }


def run(args: argparse.Namespace) -> None:
    """Train and sample every (type, AMP) pair; write ``OUT/gpu.json``."""
    sys.path.insert(0, str(ROOT / "src"))  # the bare machine has the tree, not an install
    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    args.out.mkdir(parents=True, exist_ok=True)
    data = dict(np.load(args.data))
    rows = [run_one(t, amp, data, args) for t in args.types for amp in (False, True)]
    info = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "training_events": len(data["train"]),
        "rows": rows,
    }
    (args.out / "gpu.json").write_text(json.dumps(info, indent=2) + "\n")
    for row in rows:
        print(
            f"{row['type']:5s} amp={int(row['amp'])} train {row['train_events_per_s']:.3g} ev/s "
            f"sample {row['sample_events_per_s']:.3g} ev/s peak {row['peak_memory_mib']} MiB "
            f"last loss {row['losses'][-1]:.4f}"
        )


def evaluate(directory: Path, out: Path) -> None:
    """AUC − floor and resonance W1 ÷ floor of each returned sample; a Markdown table."""
    import pandas as pd

    from hepgen.metrics import evaluate as judge
    from hepgen.preprocessing import Transform

    transform = Transform.load(directory / "split" / "transform.json")
    truth = pd.read_parquet(directory / "split" / "test.parquet")
    info = json.loads((out / "gpu.json").read_text())
    print(f"{info['device']}, torch {info['torch']}, {info['epochs']} epochs of "
          f"{info['training_events']} events, batch {info['batch_size']}\n")  # fmt: skip
    print("| type | AMP | train [events/s] | sample [events/s] | peak GPU memory [MiB] | "
          "AUC − floor | resonance W1 ÷ floor |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in info["rows"]:
        x = np.load(out / f"{row['type']}-amp{int(row['amp'])}.npy")
        x = x[np.isfinite(x).all(axis=1)]
        generated, _ = transform.postprocess(transform.inverse(x))
        m = judge(
            truth, generated, features=list(transform.columns), seed=1, options={"bootstrap": 5}
        )
        obs = m["w1_obs"]["observables"]
        name = next((n for n in ("m_mumu", "m_ee", "m_jjb_top") if n in obs), None)
        res = obs[name]["value"] / obs[name]["floor"] if name else float("nan")
        memory = row["peak_memory_mib"]
        print(
            f"| {row['type']} | {row['autocast'] or 'off'} | {row['train_events_per_s']:.3g} | "
            f"{row['sample_events_per_s']:.3g} | {'—' if memory is None else f'{memory:.0f}'} | "
            f"{m['auc']['value'] - m['auc']['floor']:.3f} | {res:.2f} ({name}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    p = steps.add_parser("prepare", help="write the transformed splits (needs the workflow's deps)")
    p.add_argument("directory", type=Path)
    p.add_argument("out", type=Path)
    r = steps.add_parser("run", help="train and sample (torch and numpy only)")
    r.add_argument("data", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--types", nargs="+", default=["flow", "cfm"])
    r.add_argument("--epochs", type=int, default=20)
    r.add_argument("--batch-size", type=int, default=1024)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--sample", type=int, default=10_000_000)
    r.add_argument("--sample-batch", type=int, default=1_000_000)
    r.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    r.add_argument("--seed", type=int, default=1)
    e = steps.add_parser("evaluate", help="judge the returned samples (needs the workflow's deps)")
    e.add_argument("directory", type=Path)
    e.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.directory, args.out)
    elif args.step == "run":
        run(args)
    else:
        evaluate(args.directory, args.out)


if __name__ == "__main__":
    main()
