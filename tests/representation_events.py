"""Events and representations shared by the representation and tensor-inverse tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepgen.preprocessing import Representation
from hepgen.preprocessing.kinematics import to_cartesian

MUON = 0.10566
RULES = [
    {"match": "*_pt", "chain": ["log", "standard"]},
    {"match": "*_m", "chain": [{"log": {"offset": 1.0}}, "standard"]},
    {"match": "*_e", "chain": ["log", "standard"]},
    {"match": "*_charge", "chain": ["discrete", "standard"]},
    {"match": "*", "chain": ["standard"]},
]


def dimuon_events(rng: np.random.Generator, n: int = 4000) -> pd.DataFrame:
    """Opposite-sign muon pairs (pT-ordered, E from the muon mass), MET and a weight."""
    pt = np.sort(rng.exponential(30.0, (n, 2)) + 20.0, axis=1)[:, ::-1]
    eta, phi = rng.uniform(-2.4, 2.4, (n, 2)), rng.uniform(-np.pi, np.pi, (n, 2))
    charge = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    table = {}
    for k in (0, 1):
        table[f"mu{k + 1}_pt"], table[f"mu{k + 1}_eta"] = pt[:, k], eta[:, k]
        table[f"mu{k + 1}_phi"] = phi[:, k]
        table[f"mu{k + 1}_e"] = to_cartesian(pt[:, k], eta[:, k], 0.0, MUON)[0]
        table[f"mu{k + 1}_charge"] = charge * (1 if k == 0 else -1)
    table |= {"met": rng.exponential(15.0, n), "met_phi": rng.uniform(-np.pi, np.pi, n)}
    return pd.DataFrame(table | {"weight": np.ones(n)})


def dimuon(kind: str = "ptetaphim", **extra) -> Representation:
    dataset = {
        "objects": [
            {"name": "mu", "max": 2, "min": 2, "mass": MUON, "fields": {"charge": "lep_charge"}}
        ],
        "systems": [{"name": "ll", "objects": ["mu1", "mu2"], "order": "charge"}],
        "met": {"pt": "met", "phi": "met_phi", "reference": "ll"},
    }
    return Representation.from_config(dataset | extra, kind)


def jet_events(rng: np.random.Generator, n: int = 3000) -> pd.DataFrame:
    """Up to three jets with a learned mass (the third may be absent)."""
    count = rng.integers(2, 4, n)
    table = {}
    pts = np.sort(rng.exponential(40.0, (n, 3)) + 20.0, axis=1)[:, ::-1]
    for k in range(3):
        present = count > k
        pt, eta = np.where(present, pts[:, k], 0.0), np.where(present, rng.normal(0, 1.5, n), 0.0)
        phi = np.where(present, rng.uniform(-np.pi, np.pi, n), 0.0)
        m = rng.gamma(4.0, 3.0, n)
        e = np.where(present, to_cartesian(pt, eta, phi, m)[0], 0.0)
        table |= {f"jet{k + 1}_pt": pt, f"jet{k + 1}_eta": eta, f"jet{k + 1}_phi": phi}
        table[f"jet{k + 1}_e"] = e
    return pd.DataFrame(table | {"n_jet": count.astype(float)})
