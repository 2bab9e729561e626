"""Fidelity benchmark: every default model type, several training seeds, both representations.

Runs the workflow itself (``snakemake`` in the repository root, results under
``results/fid_*``) on Drell–Yan μμ and, unless ``--quick``, semileptonic tt̄ (4 jets with
pT > 20 GeV, 1 muon, MET), each learned in the ``ptetaphim`` representation (fixed muon mass,
the dimuon system in the Collins–Soper frame, MET relative to the dimuon or the muon) and in
``ptetaphie`` (every object's pT, η, φ, E) on the same ntuples. Training seeds are a sweep axis
(model entries ``<model>-seed<k>`` with ``seed: k``), so rerunning with more seeds reuses the
finished rows. The table gives,
per dataset, representation and model type, the median over seeds and (in brackets) half the
spread max − min of:

- AUC − floor of the classifier two-sample test;
- W1/σ ÷ floor of the resonance masses (m_μμ; m_jj of the W candidate, m_jjb of the top
  candidate) and of the leading jet's mass;
- the m_μμ (m_jjb) tail ratios above the truth's 99 % and 99.9 % quantiles, with the floor's;
- the data-copying statistic C_T (≪ 0: copies training events) and the valid fraction;
- for the reweighted rows ``<model>+rw`` (classifier weights against the validation split,
  rule ``refine_model``), the effective sample size over the events (C_T is the plain row's).

"Best" is the model with C_T > −3 (not copying) with the lowest median AUC − floor.

Usage: python bench/fidelity.py [--quick] [--seeds N] [--cores 2] [--table-only]
(quick: DY with 40k generated events, one seed, ~30 min on 2 cores; the full run: hours)
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3)
COPYING = -3.0
MUON = 0.10566
#: The default config's model entries: every model type the benchmark trains.
DEFAULT_MODELS = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["models"]
MU = {"prefix": "lep_", "kinematics": "ptetaphie", "min_pt": 20.0, "max_abs_eta": 2.5}


def datasets(quick: bool) -> dict[str, dict]:
    """The simulated datasets of the benchmark in the ``ptetaphim`` representation."""
    mu = {**MU, "name": "mu", "max": 2, "min": 2, "mass": MUON, "fields": {"charge": "lep_charge"}}
    out = {
        "fid_dy": {
            "simulate": {
                "process": "dy_ll",
                "lepton": "mu",
                "events": 40000 if quick else 130000,
                "chunks": 4,
            },
            "objects": [mu],
            "systems": [{"name": "ll", "objects": ["mu1", "mu2"], "order": "charge"}],
            "met": {"pt": "met", "phi": "met_phi", "reference": "ll"},
            "weight": "weight",
        }
    }
    if not quick:
        lep = {
            **MU,
            "name": "mu",
            "max": 1,
            "min": 1,
            "mass": MUON,
            "fields": {"charge": "lep_charge"},
        }
        jet = {
            "name": "jet", "prefix": "jet_", "kinematics": "ptetaphie", "max": 4, "min": 4,
            "min_pt": 20.0, "max_abs_eta": 2.5, "fields": {"btag": "jet_btag"},
        }  # fmt: skip
        out["fid_tt"] = {
            "simulate": {"process": "ttbar_semilep", "lepton": "mu", "events": 160000, "chunks": 8},
            "objects": [lep, jet],
            "met": {"pt": "met", "phi": "met_phi", "reference": "mu1"},
            "weight": "weight",
        }
    return out


def with_old_representation(name: str, entry: dict) -> dict:
    """The same ntuples learned as (pT, η, φ, E): no fixed masses, fields, systems or MET reference."""
    old = copy.deepcopy({k: v for k, v in entry.items() if k not in ("simulate", "systems")})
    old["files"] = [f"results/{name}/ntuple/chunk*.root"]
    old["representation"] = "ptetaphie"
    old["met"].pop("reference", None)
    for obj in old["objects"]:
        obj.pop("mass", None)
        obj.pop("fields", None)
    return old


def models(seeds: tuple[int, ...]) -> list[dict]:
    """Every default model once per training seed, as the sweep axis ``seed`` expands it.

    The entries are written out (``<model>-seed<k>`` with ``seed: k``) rather than as sweeps
    only because a config needs at least one ``models`` entry. Every one is also reweighted
    (``refine: true``), so each gets a ``<model>-seed<k>+rw`` row.
    """
    return [
        {**model, "name": f"{model['name']}-seed{seed}", "seed": seed, "refine": True}
        for model in DEFAULT_MODELS
        for seed in seeds
    ]


def snakemake(
    config: Path, cores: int, targets: list[str] | None = None, extra: list[str] | None = None
) -> None:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--configfile",
        str(config),
        "--cores",
        str(cores),
    ]
    command += ["--keep-going", *(targets or []), *(extra or [])]  # extra last: it may take lists
    subprocess.run(command, cwd=ROOT, check=True)


def run(
    quick: bool,
    cores: int,
    workdir: Path,
    seeds: tuple[int, ...] = SEEDS,
    extra: list[str] | None = None,
) -> dict[str, dict]:
    """Simulate, then train, sample and evaluate everything; return the configs' datasets."""
    workdir.mkdir(parents=True, exist_ok=True)
    simulated = datasets(quick)
    entries = models(seeds)
    phase1 = {"datasets": simulated, "models": entries, "sweeps": []}
    (workdir / "simulate.yaml").write_text(yaml.safe_dump(phase1, sort_keys=False))
    chunks = [
        f"results/{name}/ntuple/chunk{i}.root"
        for name, entry in simulated.items()
        for i in range(entry["simulate"]["chunks"])
    ]
    snakemake(workdir / "simulate.yaml", cores, chunks, extra)
    everything = dict(simulated)
    for name, entry in simulated.items():
        everything[f"{name}_pe"] = with_old_representation(name, entry)
    config = {**phase1, "datasets": everything}
    (workdir / "fidelity.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    metrics = [
        f"results/{name}/metrics/{entry['name']}{suffix}.json"
        for name in everything
        for entry in entries
        for suffix in ("", "+rw")
    ]
    snakemake(workdir / "fidelity.yaml", cores, metrics, extra)  # the table needs no figures
    return everything


def _ratio(entry: dict | None) -> float:
    if not entry or not entry.get("floor"):
        return float("nan")
    return entry["value"] / entry["floor"]


def figures(dataset: str, model: str) -> dict[str, float] | None:
    """The benchmark's figures for one trained model, or None when its metrics are missing."""
    path = ROOT / "results" / dataset / "metrics" / f"{model}.json"
    if not path.is_file():
        return None
    m = json.loads(path.read_text())
    obs = m.get("w1_obs", {}).get("observables", {})
    tails = {q: m.get(f"tail_{q}", {}).get("observables", {}) for q in ("99", "999")}
    resonance = "m_mumu" if "m_mumu" in obs else "m_jjb_top"
    out = {
        "auc": m["auc"]["value"] - m["auc"]["floor"],
        "res": _ratio(obs.get(resonance)),
        "w": _ratio(obs.get("m_jj_w")),
        "jet_m": _ratio(obs.get("m_j1")),
        "c_t": m["memorisation"]["z_u"]["value"],
        "valid": (m.get("sampling") or {}).get("valid_fraction") or float("nan"),
        "ess": (m.get("refine") or {}).get("ess_fraction", float("nan")),
    }
    for q, found in tails.items():
        entry = found.get(resonance) or {}
        out[f"tail{q}"] = entry.get("value", float("nan"))
        out[f"tail{q}_floor"] = entry.get("floor", float("nan"))
    return out


def _cell(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "—"
    half = (max(values) - min(values)) / 2
    return f"{statistics.median(values):.{digits}f} ({half:.{digits}f})"


def table(names: list[str], seeds: tuple[int, ...]) -> str:
    """The Markdown table over every dataset, representation and model type."""
    header = (
        "| dataset | repr. | model | AUC − floor | resonance W1 ÷ floor | m_jj(W) W1 ÷ floor | "
        "jet-mass W1 ÷ floor | tail 99 % (floor) | tail 99.9 % (floor) | C_T | valid | ESS | seeds |"
    )
    lines = [header, "|---|---|---|" + "---:|" * 10]
    best: dict[str, tuple[float, str]] = {}
    for dataset in names:
        representation = "ptetaphie" if dataset.endswith("_pe") else "ptetaphim"
        for model, suffix in ((m["name"], rw) for m in DEFAULT_MODELS for rw in ("", "+rw")):
            rows = [figures(dataset, f"{model}-seed{s}{suffix}") for s in seeds]
            model += suffix
            rows = [r for r in rows if r is not None]
            if not rows:
                continue
            col = {k: [r[k] for r in rows] for k in rows[0]}
            auc = statistics.median(col["auc"])
            if statistics.median(col["c_t"]) > COPYING and auc < best.get(dataset, (9.0, ""))[0]:
                best[dataset] = (auc, model)
            tails = [
                f"{_cell(col[f'tail{q}'], 2)} [{_cell(col[f'tail{q}_floor'], 2)}]"
                for q in ("99", "999")
            ]
            lines.append(
                f"| {dataset} | {representation} | {model} | {_cell(col['auc'])} | {_cell(col['res'], 2)} | "
                f"{_cell(col['w'], 2)} | {_cell(col['jet_m'], 2)} | {tails[0]} | {tails[1]} | "
                f"{_cell(col['c_t'], 1)} | {_cell(col['valid'])} | {_cell(col['ess'], 2)} | "
                f"{len(rows)} |"
            )
    lines.append("")
    lines += [f"best on {d}: {m} (median AUC − floor {a:.3f})" for d, (a, m) in best.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="DY only (40k events), one seed")
    parser.add_argument("--seeds", type=int, help="training seeds per model (default 1 quick, 3)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--table-only", action="store_true", help="print the table of finished runs"
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "results" / "fidelity-bench")
    parser.add_argument(
        "--rerun-triggers",
        nargs="+",
        help="passed to snakemake, e.g. mtime to reuse copied ntuples",
    )
    args = parser.parse_args()
    seeds = tuple(range(1, 1 + (args.seeds or (1 if args.quick else len(SEEDS)))))
    names = list(datasets(args.quick))
    names = [n for name in names for n in (name, f"{name}_pe")]
    if not args.table_only:
        extra = ["--rerun-triggers", *args.rerun_triggers] if args.rerun_triggers else None
        run(args.quick, args.cores, args.workdir, seeds, extra)
    print(table(names, seeds))


if __name__ == "__main__":
    main()
