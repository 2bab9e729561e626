"""Metric tests run single-threaded, and share a generator of toy Z -> mu mu events."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
import vector
from threadpoolctl import threadpool_limits

M_Z = 91.19  # GeV


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


def dimuon_events(
    n: int, seed: int, *, mass: float = M_Z, width: float = 2.5, pt_scale: float = 15.0
) -> pd.DataFrame:
    """Z -> mu mu events: Breit-Wigner mass, exponential Z pT, isotropic massless decay.

    Columns mu{1,2}_{pt,eta,phi,e} (GeV, rad, pT-ordered), met, met_phi, weight.
    """
    rng = np.random.default_rng(seed)
    m = mass + 0.5 * width * np.tan(np.pi * (rng.uniform(size=n) - 0.5))
    m = np.clip(m, 60.0, 120.0)
    cos_theta, phi = rng.uniform(-1.0, 1.0, n), rng.uniform(-np.pi, np.pi, n)
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    half = 0.5 * m
    px, py, pz = half * sin_theta * np.cos(phi), half * sin_theta * np.sin(phi), half * cos_theta
    mu_a = vector.array({"px": px, "py": py, "pz": pz, "E": half})
    mu_b = vector.array({"px": -px, "py": -py, "pz": -pz, "E": half})
    z_pt, z_phi, z_y = (
        rng.exponential(pt_scale, n),
        rng.uniform(-np.pi, np.pi, n),
        rng.normal(0, 1, n),
    )
    mt = np.sqrt(m**2 + z_pt**2)
    z = vector.array(
        {
            "px": z_pt * np.cos(z_phi),
            "py": z_pt * np.sin(z_phi),
            "pz": mt * np.sinh(z_y),
            "E": mt * np.cosh(z_y),
        }
    )
    mu_a, mu_b = mu_a.boost_p4(z), mu_b.boost_p4(z)
    lead = mu_a.pt >= mu_b.pt
    table = {}
    for k, (first, second) in enumerate(((mu_a, mu_b), (mu_b, mu_a)), start=1):
        for field, name in (("pt", "pt"), ("eta", "eta"), ("phi", "phi"), ("E", "e")):
            table[f"mu{k}_{name}"] = np.where(lead, getattr(first, field), getattr(second, field))
    table["met"] = rng.exponential(10.0, n)
    table["met_phi"] = rng.uniform(-np.pi, np.pi, n)
    table["weight"] = np.ones(n)
    return pd.DataFrame(table)


@pytest.fixture
def dimuon() -> Callable[..., pd.DataFrame]:
    """The :func:`dimuon_events` generator."""
    return dimuon_events
