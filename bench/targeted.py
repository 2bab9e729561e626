"""Targeted generation benchmark: Drell–Yan μμ events above a dimuon-mass cut, drawn from a
flow conditioned on the dimuon mass against rejection sampling of the unconditional flow.

Works on a finished inclusive run (``results/<dataset>``: ``split/{train,val,test}.parquet``,
``split/transform.json``, unconditional flows ``models/<entry>-seed<k>/model.pt``), e.g. the
``fid_dy`` run of ``bench/fidelity.py``. With a cut ``m_μμ > CUT`` (default 150 GeV) it

1. trains a flow conditioned on ``ll_m`` (the dimuon mass coordinate of the ``ptetaphim``
   representation, a transform feature) on the run's training split, with the params and
   training settings of the run's flow entry and the weights divided by their mean per mass
   cell (``training.weights: per_condition``), once per training seed; on a run stitched from
   mass slices (``config/studies/targeted_dy_highmass.yaml``) the region holds thousands of
   training events instead of tens;
2. times targeted sampling: conditions drawn with ``sample.condition`` source ``region``
   (a reflected KDE of the training rows above the cut, :mod:`hepgen.condition_rows`), the
   flow, the inverse and the postprocess; and checks the events' own m_μμ (from the muons)
   against the cut and against the mass asked for;
3. times rejection sampling: the unconditional flows of the run draw inclusive events, of
   which those with m_μμ > CUT are kept; the cost per accepted event is the sampling time over
   the accepted count;
4. judges both inside the region against a high-mass truth: the inclusive test split holds
   too few events above the cut, so Pythia8 ``dy_ll`` is simulated with ``mll_min`` below the
   cut (the run's own detector options, the run's object selection through the same
   ingestion) and the events with reco m_μμ > CUT are kept. Its cross section differs from
   the inclusive sample's, but inside the region only shapes are compared; the events carry
   their own Pythia weights (all 1: unweighted generation). Figures: AUC − floor of the
   classifier two-sample test and W1(m_μμ)/σ ÷ its floor (:func:`hepgen.metrics.evaluate`,
   the floor from two halves of the truth; Kansal et al., arXiv:2211.10295).

A diagnostic row separates the two parts of the conditional model: the same flow given the
masses of a random third of the truth, one event each (judged on the other two thirds, so the
masses are right by construction and only p(rest | m) is judged), against the KDE's masses. Two reference figures check
the truth itself: the run's own events above the cut (all splits) against it, and a fresh
inclusive simulation (``--check-events``, the run's ``mll_min``) against the run's test split,
which fails if the simulation has changed since the run was made.

Seeds: training seeds ``--seeds`` (default 1 2, also the unconditional flows
``<entry>-seed<k>``); sampling seed config ``seed`` + k; evaluation seed config ``seed``;
Pythia seeds ``--truth-seed`` (4242) and ``--truth-seed`` + 1 for the check.

The run's config is the YAML files it was made with, merged in order as ``snakemake
--configfile`` does (the fidelity run: ``config/config.yaml`` then
``results/fidelity-bench/fidelity.yaml``); it must hold ``datasets.<run name>`` and the flow
entry. Trained conditional flows and the simulated truth are cached in ``--workdir``.

Usage: python bench/targeted.py RUN_DIR [--config A.yaml B.yaml] [--cut 150] [--seeds 1 2]
       [--entry flow] [--events 10000] [--reject-events 1000000] [--truth-events 15000]
(defaults: ~1 min training per seed and ~2.5 min of simulation on one core)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDITION = "ll_m"  # the dimuon system's mass coordinate (systems: [{name: ll, ...}])
MASS = "m_mumu"  # the same mass computed from the two muons (hepgen.preprocessing.observables)


def merged(paths: list[Path]) -> dict:
    """The YAML files merged in order, nested mappings updated key by key (snakemake's rule)."""

    def update(base: dict, new: dict) -> dict:
        for key, value in new.items():
            both = isinstance(value, dict) and isinstance(base.get(key), dict)
            base[key] = update(dict(base[key]), value) if both else value
        return base

    out: dict = {}
    for path in paths:
        if not path.is_file():
            sys.exit(f"targeted: config file {path} does not exist")
        out = update(out, yaml.safe_load(path.read_text()) or {})
    return out


def run_inputs(run: Path, config: dict, entry_name: str) -> tuple[dict, dict, dict]:
    """The run's dataset entry, flow entry (training merged over the defaults) and split paths;
    exits with a message naming what is missing."""
    split = {k: run / "split" / f"{k}.parquet" for k in ("train", "val", "test")}
    split["transform"] = run / "split" / "transform.json"
    missing = [str(p) for p in split.values() if not p.is_file()]
    if missing:
        sys.exit(
            f"targeted: {run} is not a finished run directory (results/<dataset> of the workflow "
            f"with split/train.parquet, val.parquet, test.parquet, transform.json); missing {missing}"
        )
    dataset = (config.get("datasets") or {}).get(run.name)
    if dataset is None or "objects" not in dataset:
        sys.exit(
            f"targeted: datasets.{run.name} is not in the given config files (found "
            f"{sorted(config.get('datasets') or {})}); pass the files the run was made with, e.g. "
            "--config config/config.yaml results/fidelity-bench/fidelity.yaml"
        )
    models = config.get("models") or []
    entry = next((m for m in models if m["name"] == entry_name), None)
    entry = entry or next((m for m in models if m["name"].startswith(f"{entry_name}-seed")), None)
    if entry is None or entry.get("type") != "flow":
        sys.exit(
            f"targeted: no flow entry named {entry_name!r} (or {entry_name}-seed<k>) under models; "
            f"found {[m['name'] for m in models]}"
        )
    training = {**(config.get("training") or {}), **(entry.get("training") or {})}
    return dataset, {**entry, "training": training}, split


def train_conditional(split: dict, entry: dict, rules: list, seed: int, workdir: Path):
    """The flow conditioned on ``ll_m`` for one training seed (cached by its settings), its
    conditioning and the training seconds (0 when loaded from the cache)."""
    from hepgen.checkpoint import load_checkpoint, save_checkpoint
    from hepgen.models import build
    from hepgen.preprocessing import Transform
    from hepgen.preprocessing.condition import Conditioning
    from hepgen.training import TrainConfig, train_model

    transform = Transform.load(split["transform"])
    conditioning = Conditioning.from_rules(transform, [CONDITION], rules)
    train = pd.read_parquet(split["train"])
    conditioning.fit(train)
    key = {"run": str(split["train"]), "params": entry["params"], "training": entry["training"],
           "weights": "per_condition"}  # fmt: skip
    path = workdir / f"flow-{CONDITION}-seed{seed}.pt"
    if path.is_file():
        model, meta = load_checkpoint(path)
        if meta.get("extra", {}).get("key") == json.loads(json.dumps(key)):
            return model, conditioning, meta["extra"]["seconds"], True
    val = pd.read_parquet(split["val"])
    config = TrainConfig.from_dict({**entry["training"], "seed": seed, "device": "cpu"})
    inputs = conditioning.inputs
    model = build("flow", len(inputs), entry["params"], seed=seed, conditions=1)
    start = time.perf_counter()
    history = train_model(
        model,
        conditioning.forward(train),
        conditioning.forward(val),
        config,
        weights=balanced(train, conditioning),
        val_weights=balanced(val, conditioning),
    )
    seconds = time.perf_counter() - start
    save_checkpoint(
        path, model, type="flow", params=entry["params"], features=inputs,
        training={**entry["training"], "seed": seed}, history=history,
        extra={"key": key, "seconds": seconds}, condition=conditioning.to_dict(),
    )  # fmt: skip
    return model, conditioning, seconds, False


def balanced(table: pd.DataFrame, conditioning) -> np.ndarray | None:
    """The events' weights with their mass dependence divided out (``training.weights:
    per_condition``): a stitched run's high-mass slice counts by its events."""
    from hepgen.preprocessing.condition import per_condition_weights

    if "weight" not in table:
        return None
    return per_condition_weights(table["weight"].to_numpy(), conditioning.physical(table))


def own_mass(table: pd.DataFrame) -> np.ndarray:
    """m_μμ [GeV] of every event from its two muons."""
    from hepgen.preprocessing.observables import derived_table

    return derived_table(table, [MASS])[MASS].to_numpy(np.float64)


def targeted(
    model, conditioning, split, transform, n, cut, seed, batch, rows=None
) -> tuple[pd.DataFrame, dict]:
    """Conditions in the region (``rows``: given physical condition rows, cycled), sampling,
    inverse, postprocess: the events with m_μμ > cut and their record (times in s)."""
    from hepgen.condition_rows import condition_rows
    from hepgen.sampling import sample_events

    start = time.perf_counter()
    if rows is None:
        options = {"source": "region", "region": {CONDITION: {"min": cut}}}
        rows = condition_rows(
            options, conditioning, n, test=split["test"], train=split["train"], seed=seed
        )
    else:
        rows = rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)
    conditions = conditioning.encode(rows)
    drawn = time.perf_counter()
    table, _ = sample_events(
        model, n, seed=seed, batch_size=batch, conditions=conditions,
        inverse=lambda x, rng: conditioning.inverse(x, rng=rng), postprocess=transform.postprocess,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    mass = own_mass(table)
    asked = table[f"condition_{CONDITION}"].to_numpy(np.float64)
    gap = np.abs(mass - asked)
    inside = mass > cut
    record = {
        "events": len(table),
        "seconds": seconds,
        "condition_seconds": drawn - start,
        "sampling_seconds": seconds - (drawn - start),
        "in_region_fraction": float(inside.mean()),
        "seconds_per_accepted": seconds / max(int(inside.sum()), 1),
        "undefined_mass": int(np.isnan(mass).sum()),  # a muon outside the object selection
        "mismatch_gev": {"median": float(np.nanmedian(gap)), "q90": float(np.nanquantile(gap, 0.9)),
                         "max": float(np.nanmax(gap))},
    }  # fmt: skip
    return table[inside].reset_index(drop=True), record


def rejection(model, transform, n, cut, seed, batch) -> tuple[pd.DataFrame, dict]:
    """Inclusive events from the unconditional flow, those with m_μμ > cut kept."""
    from hepgen.sampling import iter_samples

    start = time.perf_counter()
    kept, drawn = [], 0
    for table in iter_samples(
        model, n, seed=seed, batch_size=batch, inverse=lambda x, rng: transform.inverse(x, rng=rng),
        postprocess=transform.postprocess,
    ):  # fmt: skip
        drawn += len(table)
        kept.append(table[own_mass(table) > cut])
    seconds = time.perf_counter() - start
    accepted = pd.concat(kept, ignore_index=True)
    record = {
        "events": drawn,
        "seconds": seconds,
        "rate_hz": drawn / seconds,
        "accepted": len(accepted),
        "acceptance": len(accepted) / drawn,
        "seconds_per_accepted": seconds / max(len(accepted), 1),
    }
    return accepted, record


def simulated(dataset: dict, mll_min: float, events: int, seed: int, workdir: Path):
    """Pythia8 dy_ll with the run's simulate options but ``mll_min``, ingested with the run's
    dataset spec (object selection): the event table and the run statistics (cached)."""
    from hepgen.io import DatasetSpec
    from hepgen.io.tables import ingest
    from hepgen.simulate import simulate, write_ntuple
    from hepgen.simulate.slices import RUN_KEYS

    sim = dict(dataset.get("simulate") or {"process": "dy_ll", "lepton": "mu"})
    if sim.get("process") != "dy_ll":
        sys.exit(f"targeted: the run's dataset simulates {sim.get('process')!r}, not dy_ll")
    options = {k: v for k, v in sim.items() if k not in RUN_KEYS}
    options["mll_min"] = mll_min
    ntuple = workdir / f"dy-mll{mll_min:g}-n{events}-s{seed}.root"
    stats_path = ntuple.with_suffix(".json")
    if not (ntuple.is_file() and stats_path.is_file()):
        branches, stats = simulate(
            "dy_ll", events=events, seed=seed, ecm=float(sim.get("ecm", 13000.0)), options=options
        )
        write_ntuple(ntuple, branches)
        stats_path.write_text(json.dumps(stats, indent=2, default=str) + "\n")
    stats = json.loads(stats_path.read_text())
    spec = {k: v for k, v in dataset.items() if k not in {"simulate", "files"}}
    table, _ = ingest(DatasetSpec.from_config(spec, files=[str(ntuple)]))
    return table, stats


def truth_sample(dataset: dict, args, workdir: Path) -> tuple[pd.DataFrame, dict]:
    """Simulated high-mass DY, reco m_μμ > cut kept, and its record."""
    table, stats = simulated(dataset, args.mll_min, args.truth_events, args.truth_seed, workdir)
    inside = table[own_mass(table) > args.cut].reset_index(drop=True)
    unit = "weight" not in inside or np.allclose(inside["weight"], 1.0)
    record = {
        "generated": args.truth_events, "selected": len(table), "in_region": len(inside),
        "mll_min": args.mll_min, "seed": args.truth_seed, "simulate_seconds": stats.get("seconds"),
        "sigma_pb": stats.get("sigma_pb"),
        "weights": "own (Pythia, unweighted: all 1)" if unit else "own",
    }  # fmt: skip
    return inside, record


def fidelity(truth, generated, transform, seed, options) -> dict[str, float]:
    from hepgen.metrics import evaluate

    m = evaluate(truth, generated, features=list(transform.columns), seed=seed, options=options)
    w1 = m["w1_obs"]["observables"][MASS]
    ratios = {k: e["value"] / e["floor"] for k, e in m["w1"]["features"].items() if e["floor"]}
    worst = dict(sorted(ratios.items(), key=lambda kv: -kv[1])[:3])
    return {
        "w1_worst_features": worst,
        "auc": m["auc"]["value"], "auc_err": m["auc"]["err"], "auc_floor": m["auc"]["floor"],
        "auc_minus_floor": m["auc"]["value"] - m["auc"]["floor"],
        "w1_m": w1["value"], "w1_m_floor": w1["floor"], "w1_m_ratio": w1["value"] / w1["floor"],
        "n_compared": m["n_compared"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished inclusive DY run: results/<dataset>")
    parser.add_argument("--config", type=Path, nargs="+", help="the run's config files, merged "
                        "in order (default: <run>/../../config/config.yaml)")  # fmt: skip
    parser.add_argument("--cut", type=float, default=150.0, help="region m_μμ > CUT [GeV]")
    parser.add_argument("--entry", default="flow", help="the run's flow entry (or <entry>-seed<k>)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="training seeds")
    parser.add_argument("--events", type=int, default=10000, help="targeted events per seed")
    parser.add_argument("--reject-events", type=int, default=1_000_000,
                        help="inclusive events drawn per unconditional flow")  # fmt: skip
    parser.add_argument("--truth-events", type=int, default=15000, help="Pythia8 events")
    parser.add_argument("--mll-min", type=float, help="Pythia m̂ cut [GeV] (default 0.85 CUT)")
    parser.add_argument("--truth-seed", type=int, default=4242)
    parser.add_argument("--check-events", type=int, default=3000, help="Pythia8 events of the "
                        "check that today's simulation matches the run's test split (0: skip)")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=ROOT / "results" / "targeted-bench")
    parser.add_argument("--out", type=Path, help="results JSON (default <workdir>/targeted.json)")
    args = parser.parse_args()
    args.mll_min = args.mll_min if args.mll_min is not None else 0.85 * args.cut
    run = args.run.resolve()
    if not run.is_dir():
        sys.exit(f"targeted: run directory {run} does not exist (expected results/<dataset>)")
    config = merged(args.config or [run.parents[1] / "config" / "config.yaml"])
    dataset, entry, split = run_inputs(run, config, args.entry)
    args.workdir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    from hepgen.checkpoint import load_checkpoint
    from hepgen.preprocessing import Transform

    transform = Transform.load(split["transform"])
    if CONDITION not in transform.features:
        sys.exit(f"targeted: {CONDITION} is not a feature of {split['transform']} (ptetaphim with "
                 f"a system named ll needed); found {transform.features}")  # fmt: skip
    seed = int(config.get("seed", 0))
    batch = int((config.get("sample") or {}).get("batch_size", 100000))
    options = config.get("evaluate") or {}
    train = pd.read_parquet(split["train"])
    train_mass = own_mass(train)
    truth, truth_record = truth_sample(dataset, args, args.workdir)
    out: dict[str, Any] = {
        "run": str(run), "cut_gev": args.cut, "entry": entry, "seeds": args.seeds,
        "evaluate_seed": seed, "truth": truth_record,
        "train_in_region": int((train_mass > args.cut).sum()), "train_events": len(train),
        "train_max_mass": float(train_mass.max()), "conditional": {}, "truth_masses": {},
        "rejection": {},
    }  # fmt: skip
    if args.check_events:  # the truth generator against the run's own inclusive test split
        mll = float((dataset.get("simulate") or {}).get("mll_min", 50.0))
        fresh, _ = simulated(dataset, mll, args.check_events, args.truth_seed + 1, args.workdir)
        test = pd.read_parquet(split["test"])
        out["simulation_check"] = {"events": len(fresh), "mll_min": mll}
        out["simulation_check"] |= fidelity(test, fresh, transform, seed, options)
        print(f"simulation check: {json.dumps(out['simulation_check'])}", flush=True)
    # the run's own events above the cut (every split) against the truth: all a model learns from
    every = pd.concat([pd.read_parquet(split[k]) for k in ("train", "val", "test")])
    every = every[own_mass(every) > args.cut].reset_index(drop=True)
    out["run_events"] = {"events": len(every)} | fidelity(truth, every, transform, seed, options)
    print(f"run's events in the region: {json.dumps(out['run_events'])}", flush=True)
    third = np.random.default_rng(seed).permutation(len(truth))
    oracle = truth.iloc[third[: len(truth) // 3]].reset_index(drop=True)
    judged = truth.iloc[third[len(truth) // 3 :]].reset_index(drop=True)
    for s in args.seeds:
        model, conditioning, seconds, cached = train_conditional(
            split, entry, config["preprocess"]["transforms"], s, args.workdir
        )
        # untimed warm-up: first-call imports (scipy.stats for the KDE) and thread start-up
        targeted(model, conditioning, split, transform, 256, args.cut, seed, batch)
        events, record = targeted(model, conditioning, split, transform, args.events, args.cut,
                                  seed + s, batch)  # fmt: skip
        record |= {"train_seconds": seconds, "cached": cached}
        record |= fidelity(truth, events, transform, seed, options)
        out["conditional"][s] = record
        print(f"conditional seed {s}: {json.dumps(record)}", flush=True)
        # the same flow given the masses of a third of the truth, judged on the other two
        # thirds: separates the conditional flow's error from that of the KDE of the conditions
        # (one event per mass: repeated masses would show as spikes to the classifier)
        rows = conditioning.physical(oracle)
        events, record = targeted(model, conditioning, split, transform, len(rows), args.cut,
                                  seed + s, batch, rows=rows)  # fmt: skip
        record |= fidelity(judged, events, transform, seed, options)
        out["truth_masses"][s] = record
        print(f"conditional given truth masses, seed {s}: {json.dumps(record)}", flush=True)
    for s in args.seeds:
        path = run / "models" / f"{args.entry}-seed{s}" / "model.pt"
        path = path if path.is_file() else run / "models" / args.entry / "model.pt"
        if not path.is_file():
            print(f"no unconditional flow at {path}: rejection row skipped")
            continue
        model, _ = load_checkpoint(path)
        rejection(model, transform, 1024, args.cut, seed, batch)  # untimed warm-up
        events, record = rejection(model, transform, args.reject_events, args.cut, seed + s, batch)
        record["model"] = str(path)
        if len(events) >= 300:
            record |= fidelity(truth, events, transform, seed, options)
        out["rejection"][s] = record
        print(f"rejection seed {s}: {json.dumps(record)}", flush=True)
    out["table"] = table(out)
    print(out["table"])
    path = args.out or args.workdir / "targeted.json"
    path.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"wrote {path}")


def table(out: dict) -> str:
    """The Markdown table of the conditional and rejection rows."""
    lines = [
        f"m_μμ > {out['cut_gev']:g} GeV; truth: {out['truth']['in_region']} simulated events in the "
        f"region; {out['train_in_region']} of {out['train_events']} training events in it",
        "",
        "| method | seed | events | in region | s / accepted event | AUC − floor (floor) | "
        "W1(m_μμ) ÷ floor | own − asked m: median, q90 [GeV] |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cost = {}
    methods = {
        "conditional": out["conditional"],
        "conditional, truth masses": out["truth_masses"],
        "rejection": out["rejection"],
    }
    for method, rows in methods.items():
        for s, r in rows.items():
            cost.setdefault(method, []).append(r["seconds_per_accepted"])
            if method == "conditional":
                cost.setdefault("marginal", []).append(r["sampling_seconds"] / r["events"])
            auc = (
                f"{r['auc_minus_floor']:.3f} ± {r['auc_err']:.3f} ({r['auc_floor']:.3f})"
                if "auc" in r
                else "—"
            )
            w1 = f"{r['w1_m_ratio']:.2f}" if "w1_m_ratio" in r else "—"
            frac = r.get("in_region_fraction", r.get("acceptance"))
            gap = r.get("mismatch_gev")
            gap = f"{gap['median']:.2g}, {gap['q90']:.2g}" if gap else "—"
            lines.append(f"| {method} | {s} | {r['events']} | {frac:.4f} | "
                         f"{r['seconds_per_accepted']:.3g} | {auc} | {w1} | {gap} |")  # fmt: skip
    for key, label in (
        ("run_events", "the run's own events above the cut (all splits) against the truth"),
        ("simulation_check", "a fresh inclusive simulation against the run's test split"),
    ):
        r = out.get(key)
        if r:
            lines.append(
                f"\n{label}: {r['events']} events, AUC − floor {r['auc_minus_floor']:.3f} ± "
                f"{r['auc_err']:.3f}, W1(m_μμ) ÷ floor {r['w1_m_ratio']:.2f}"
            )
    if "rejection" in cost and "conditional" in cost:
        ratio = np.median(cost["rejection"]) / np.median(cost["conditional"])
        marginal = np.median(cost["rejection"]) / np.median(cost["marginal"])
        out["cost_ratio_rejection_over_conditional"] = float(ratio)
        out["cost_ratio_without_condition_setup"] = float(marginal)
        lines += [
            "",
            f"rejection costs {ratio:.3g}× the conditional flow per accepted event "
            f"({marginal:.3g}× without drawing the conditions: KDE set-up and draw)",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
