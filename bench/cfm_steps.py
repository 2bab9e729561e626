"""CFM solver steps against fidelity and sampling rate, for one trained ``cfm`` model.

Samples the model's checkpoint with each ODE solver and step count (the network is unchanged;
only the integration of its velocity field differs), evaluates every sample against the test
split as the workflow does (without the data-copying test, which does not depend on the
solver) and prints a Markdown table: network calls per event, sampling rate on this machine's
CPU (one thread), AUC − floor, and W1/σ ÷ floor of the resonance masses.

Usage: python bench/cfm_steps.py results/<dataset> <model> [--events N] [--steps 4 8 16 32 64]
       [--solvers euler midpoint rk4] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pandas as pd
import torch

from hepgen.checkpoint import load_checkpoint
from hepgen.metrics import evaluate
from hepgen.preprocessing import Transform
from hepgen.sampling import sample_events

CALLS = {"euler": 1, "midpoint": 2, "rk4": 4}
RESONANCES = ("m_mumu", "m_ee", "m_jj_w", "m_jjb_top", "m_j1")


def measure(directory: Path, model_name: str, solver: str, steps: int, events: int) -> dict:
    """Sample ``events`` with (solver, steps) and evaluate them; return the table's figures."""
    model, meta = load_checkpoint(directory / "models" / model_name / "model.pt")
    if meta["type"] != "cfm":
        raise SystemExit(f"{model_name} is a {meta['type']!r} model, not 'cfm'")
    model.hparams = dataclasses.replace(model.hparams, solver=solver, steps=steps)
    transform = Transform.load(directory / "split" / "transform.json")
    generated, info = sample_events(
        model,
        events,
        seed=7,
        batch_size=events,
        inverse=lambda x, rng: transform.inverse(x, rng=rng),
        postprocess=transform.postprocess,
        max_removed_fraction=1.0,
    )
    generated, _ = transform.exclude_unusable(generated)
    truth = pd.read_parquet(directory / "split" / "test.parquet")
    metrics = evaluate(
        truth, generated, features=list(transform.columns), seed=11, options={"bootstrap": 5}
    )
    obs = metrics["w1_obs"]["observables"]
    row = {
        "solver": solver,
        "steps": steps,
        "calls": steps * CALLS[solver],
        "rate_hz": info["rate_hz"],
        "auc": metrics["auc"]["value"] - metrics["auc"]["floor"],
        "valid": 1.0 - info["validity"]["invalid_fraction"],
    }
    for name in RESONANCES:
        if name in obs and obs[name]["floor"]:
            row[name] = obs[name]["value"] / obs[name]["floor"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="results/<dataset> of a finished run")
    parser.add_argument("model", help="the name of a trained cfm model in it")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--steps", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    parser.add_argument("--solvers", nargs="+", default=["euler", "midpoint", "rk4"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [
        measure(args.directory, args.model, solver, steps, args.events)
        for solver in args.solvers
        for steps in args.steps
    ]
    masses = [name for name in RESONANCES if any(name in row for row in rows)]
    print(f"{args.directory.name}/{args.model}, {args.events} events, {args.threads} thread(s)\n")
    print("| solver | steps | calls/event | events/s | AUC − floor | valid | " + " | ".join(
        f"{m} W1 ÷ floor" for m in masses) + " |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(masses))
    for row in rows:
        cells = [f"{row.get(m, float('nan')):.2f}" for m in masses]
        print(
            f"| {row['solver']} | {row['steps']} | {row['calls']} | {row['rate_hz']:.3g} | "
            f"{row['auc']:.3f} | {row['valid']:.3f} | " + " | ".join(cells) + " |"
        )
    out = args.directory / f"cfm_steps_{args.model}.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
