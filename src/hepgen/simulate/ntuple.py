"""ROOT ntuple writing: the ``events`` TTree that ingestion reads."""

from __future__ import annotations

import os
from collections.abc import Mapping

import awkward as ak
import numpy as np
import uproot

from hepgen.errors import HepgenError
from hepgen.files import atomic_path

__all__ = ["COLLECTIONS", "FLAT", "GEN_COLLECTIONS", "TREE", "write_ntuple"]

TREE = "events"
COLLECTIONS = {
    "lep": ("pt", "eta", "phi", "e", "charge", "pdgid"),
    "jet": ("pt", "eta", "phi", "e", "btag"),
    "photon": ("pt", "eta", "phi", "e"),
}
# Generator-level objects before smearing; ``reco`` is the index of the ΔR-matched object in
# the reconstructed collection of the same name (``gen_lep_reco`` → ``lep_*``), −1 for none.
GEN_COLLECTIONS = {
    "gen_lep": ("pt", "eta", "phi", "e", "charge", "pdgid", "reco"),
    "gen_jet": ("pt", "eta", "phi", "e", "reco"),
    "gen_photon": ("pt", "eta", "phi", "e", "reco"),
}
FLAT = ("met", "met_phi", "weight")


def write_ntuple(path: str | os.PathLike, branches: Mapping[str, ak.Array | np.ndarray]) -> None:
    """Write the branches as TTree ``events`` to a ROOT file, atomically.

    Each collection becomes jagged branches ``<name>_<field>`` sharing one counter branch
    ``n<name>`` (``nlep``, ``njet``, ``nphoton``, ``ngen_lep``, ``ngen_jet``,
    ``ngen_photon``); ``met, met_phi, weight`` are flat.

    Arguments:
        path: the output ``.root`` file.
        branches: ``lep_pt, ..., jet_btag, photon_e``, ``gen_lep_pt, ..., gen_photon_reco``
            (jagged, one list per event) and ``met, met_phi, weight`` (shape (events,));
            GeV and rad.
    """
    collections = {**COLLECTIONS, **GEN_COLLECTIONS}
    expected = [f"{c}_{f}" for c, fields in collections.items() for f in fields] + list(FLAT)
    missing = [name for name in expected if name not in branches]
    if missing:
        msg = f"write_ntuple({os.fspath(path)!r}): missing branches {missing}"
        raise HepgenError(msg)
    tree: dict[str, ak.Array | np.ndarray] = {
        name: ak.zip({f: branches[f"{name}_{f}"] for f in fields})
        for name, fields in collections.items()
    }
    tree.update({name: np.asarray(branches[name], dtype=np.float64) for name in FLAT})
    with atomic_path(path) as tmp, uproot.recreate(tmp) as file:
        file.mktree(
            TREE,
            {
                name: value.type if isinstance(value, ak.Array) else value.dtype
                for name, value in tree.items()
            },
            counter_name=lambda counted: f"n{counted}",
            field_name=lambda outer, inner: f"{outer}_{inner}",
        )
        file[TREE].extend(tree)
