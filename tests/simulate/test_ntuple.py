"""ROOT ntuple writing and reading back with uproot."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from hepgen.errors import HepgenError
from hepgen.simulate.ntuple import COLLECTIONS, FLAT, GEN_COLLECTIONS, write_ntuple


def branches(rng: np.random.Generator, n: int = 50) -> dict:
    out = {}
    for name, fields in {**COLLECTIONS, **GEN_COLLECTIONS}.items():
        counts = rng.integers(0, 4, n)
        total = int(counts.sum())
        for field in fields:
            if field == "btag":
                values = rng.random(total) < 0.3
            elif field == "reco":
                values = rng.integers(-1, 3, total).astype(np.int32)
            elif field in ("charge", "pdgid"):
                values = rng.choice([-1, 1], total).astype(np.int32) * (
                    13 if field == "pdgid" else 1
                )
            else:
                values = rng.exponential(30.0, total)
            out[f"{name}_{field}"] = ak.unflatten(values, counts)
    for name in FLAT:
        out[name] = rng.exponential(20.0, n)
    return out


def test_round_trip(tmp_path, rng):
    data = branches(rng)
    path = tmp_path / "out" / "chunk0.root"
    write_ntuple(path, data)
    assert sorted(p.name for p in path.parent.iterdir()) == ["chunk0.root"]  # no temporary left
    with uproot.open(path) as file:
        tree = file["events"]
        assert tree.num_entries == 50
        counters = {"nlep", "njet", "nphoton", "ngen_lep", "ngen_jet", "ngen_photon"}
        expected = set(data) | counters
        assert set(tree.keys()) == expected
        read = tree.arrays(library="ak")
    for name, values in data.items():
        assert ak.to_list(read[name]) == ak.to_list(values), name
    assert ak.to_list(read["nlep"]) == ak.num(data["lep_pt"]).tolist()
    assert str(ak.type(read["lep_charge"])).endswith("int32")
    assert str(ak.type(read["jet_btag"])).endswith("bool")
    assert str(ak.type(read["gen_jet_reco"])).endswith("int32")
    assert ak.to_list(read["ngen_jet"]) == ak.num(data["gen_jet_pt"]).tolist()


def test_missing_branch_raises_and_writes_nothing(tmp_path, rng):
    data = branches(rng)
    del data["jet_btag"], data["gen_lep_reco"]
    path = tmp_path / "chunk0.root"
    with pytest.raises(HepgenError, match="jet_btag.*gen_lep_reco"):
        write_ntuple(path, data)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_file(tmp_path, rng):
    path = tmp_path / "chunk0.root"
    write_ntuple(path, branches(rng, 10))
    write_ntuple(path, branches(rng, 20))
    with uproot.open(path) as file:
        assert file["events"].num_entries == 20
