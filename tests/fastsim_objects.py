"""Toy fast detector simulation tables: one row per generator-level object, known smearing."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sigma_pt(pt: np.ndarray) -> np.ndarray:
    """Relative pT resolution of the toy detector: 60 %/sqrt(pT) (+) 3 %, pT in GeV."""
    return np.hypot(0.6 / np.sqrt(pt), 0.03)


def efficiency(pt: np.ndarray, abs_eta: np.ndarray) -> np.ndarray:
    """Toy reconstruction efficiency: 0.95 in the barrel, 0.85 in the endcap, lower at low pT."""
    return np.where(abs_eta < 1.5, 0.95, 0.85) - 0.1 * np.exp(-(pt - 20.0) / 10.0)


def fastsim(
    n: int,
    seed: int,
    *,
    widen: float = 1.0,
    eff_scale: float = 1.0,
    angle_sigma: float = 0.01,
) -> pd.DataFrame:
    """One row per generator-level object: falling pT spectrum, flat eta, Gaussian smearing."""
    rng = np.random.default_rng(seed)
    pt = 20.0 + rng.exponential(40.0, n)
    pt = pt[pt < 200.0][: n // 2]
    m = len(pt)
    eta = rng.uniform(-2.5, 2.5, m)
    found = rng.uniform(size=m) < eff_scale * efficiency(pt, np.abs(eta))
    response = np.where(found, rng.normal(1.0, widen * sigma_pt(pt)), 1.0)
    return pd.DataFrame(
        {
            "gen_pt": pt,
            "gen_eta": eta,
            "gen_phi": rng.uniform(-np.pi, np.pi, m),
            "reco_found": found.astype(np.float64),
            "reco_response": response,
            "reco_deta": np.where(found, rng.normal(0.0, angle_sigma, m), 0.0),
            "reco_dphi": np.where(found, rng.normal(0.0, angle_sigma, m), 0.0),
        }
    )
