"""Small ntuples written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import uproot


def random_objects(
    rng: np.random.Generator, n_events: int, max_objects: int = 4
) -> dict[str, ak.Array]:
    """Jagged (pt, eta, phi, mass) of random objects; pt in GeV, not ordered."""
    counts = rng.integers(0, max_objects + 1, size=n_events)
    total = int(counts.sum())
    flat = {
        "pt": rng.exponential(30.0, total) + 5.0,
        "eta": rng.uniform(-3.0, 3.0, total),
        "phi": rng.uniform(-np.pi, np.pi, total),
        "mass": rng.uniform(0.0, 10.0, total),
    }
    return {k: ak.unflatten(v, counts) for k, v in flat.items()}


def write_tree(path: Path, branches: dict, tree: str = "events") -> Path:
    """Write a TTree; a record array ``{"Jet": ak.zip({...})}`` gives ``nJet, Jet_pt, ...``."""
    with uproot.recreate(path) as file:
        file.mktree(
            tree,
            branches,
            counter_name=lambda counted: f"n{counted}",
            field_name=lambda outer, inner: f"{outer}_{inner}",
        )
    return path
