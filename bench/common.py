"""Shared pieces of the benchmarks: a DY-like event table, its transform, the default models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def dy_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Events with the columns of the default dataset and roughly its distributions."""
    rng = np.random.default_rng(seed)
    table = {}
    for k, scale in ((1, 45.0), (2, 35.0)):
        pt = rng.gamma(9.0, scale / 9.0, n) + 20.0
        eta = rng.uniform(-2.5, 2.5, n)
        table |= {
            f"mu{k}_pt": pt,
            f"mu{k}_eta": eta,
            f"mu{k}_phi": rng.uniform(-np.pi, np.pi, n),
            f"mu{k}_e": pt * np.cosh(eta),
        }
    table["met"] = rng.exponential(10.0, n) + 0.1
    table["met_phi"] = rng.uniform(-np.pi, np.pi, n)
    return pd.DataFrame(table)


def default_transform(table: pd.DataFrame):
    from hepgen.preprocessing import Transform

    pre = default_config()["preprocess"]
    return Transform.from_rules(list(table.columns), pre["transforms"], phi=pre.get("phi")).fit(
        table
    )


def default_models() -> list[dict]:
    return default_config()["models"]
