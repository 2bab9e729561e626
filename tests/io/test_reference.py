"""Ingestion equals a straightforward per-event awkward reference (select, sort, pad), whatever
the branch dtype, the kinematics convention, the ntuple format and the step size."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import uproot
import vector
from ntuples import random_objects, write_tree

from hepgen.io import KINEMATICS, DatasetSpec, ingest, ingest_to_parquet, tables

vector.register_awkward()

SELECTION = {"max": 3, "min": 1, "min_pt": 10.1, "max_abs_eta": 2.4, "multiplicity": True}


def _reference(path, tree: str, prefix: str, kinematics: str) -> pd.DataFrame:
    """The event table of one collection plus MET, computed event by event with awkward."""
    arrays = uproot.open(path)[tree].arrays()
    raw = {f: ak.values_astype(arrays[prefix + f], np.float64) for f in KINEMATICS[kinematics]}
    if kinematics == "ptetaphie":
        v = ak.zip(raw)
    elif kinematics == "ptetaphim":
        v = vector.zip({"pt": raw["pt"], "eta": raw["eta"], "phi": raw["phi"], "mass": raw["mass"]})
    else:
        v = vector.zip({"px": raw["px"], "py": raw["py"], "pz": raw["pz"], "E": raw["e"]})
    polar = {"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.e if kinematics == "ptetaphie" else v.E}
    keep = (polar["pt"] > SELECTION["min_pt"]) & (abs(polar["eta"]) < SELECTION["max_abs_eta"])
    order = ak.argsort(polar["pt"][keep], axis=1, ascending=False, stable=True)
    objects = {f: values[keep][order] for f, values in polar.items()}
    n = ak.to_numpy(ak.num(objects["pt"], axis=1))
    table = {}
    for k in range(SELECTION["max"]):
        for f, values in objects.items():
            padded = ak.fill_none(ak.pad_none(values, SELECTION["max"], clip=True), 0.0)
            table[f"jet{k + 1}_{f}"] = ak.to_numpy(padded[:, k])
    table["n_jet"] = n.astype(np.float64)
    table["met"] = ak.to_numpy(arrays["MET_pt"]).astype(np.float64)
    table["met_phi"] = ak.to_numpy(arrays["MET_phi"]).astype(np.float64)
    return pd.DataFrame(table)[n >= SELECTION["min"]].reset_index(drop=True)


@pytest.mark.parametrize("kinematics", sorted(KINEMATICS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_table_equals_per_event_reference(tmp_path, rng, monkeypatch, kinematics, dtype, fmt):
    n = 700
    obj = random_objects(rng, n, max_objects=7)  # objects in random pT order
    pt = ak.to_numpy(ak.flatten(obj["pt"]))
    pt[rng.random(len(pt)) < 0.05] = SELECTION["min_pt"]  # as float32 just above the cut
    obj["pt"] = ak.unflatten(pt, ak.num(obj["pt"]))
    v = vector.zip({k: obj[k] for k in ("pt", "eta", "phi", "mass")})
    if kinematics == "pxpypze":
        obj = {"px": v.px, "py": v.py, "pz": v.pz, "e": v.E}
    elif kinematics == "ptetaphie":
        obj = {"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.E}
    branches = {f"Jet_{f}": ak.values_astype(values, dtype) for f, values in obj.items()}
    branches["MET_pt"] = rng.exponential(20.0, n).astype(dtype)
    branches["MET_phi"] = rng.uniform(-np.pi, np.pi, n).astype(dtype)
    path = tmp_path / "nano.root"
    if fmt == "ttree":
        write_tree(path, branches, tree="Events")
    else:
        with uproot.recreate(path) as file:
            file.mkrntuple("Events", branches)
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "tree": "Events",
            "objects": [{"name": "jet", "prefix": "Jet_", "kinematics": kinematics, **SELECTION}],
            "met": {"pt": "MET_pt", "phi": "MET_phi"},
        }
    )
    expected = _reference(path, "Events", "Jet_", kinematics)
    assert 0 < len(expected) < n
    for step_size in ("16 MB", 97):
        table, stats = ingest(spec, step_size=step_size)
        pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-12, atol=0.0)
        assert stats["events"] == len(expected) and stats["removed"]["jet"] == n - len(expected)
    streamed = tmp_path / "events.parquet"
    ingest_to_parquet(spec, streamed, step_size=97)
    pd.testing.assert_frame_equal(pd.read_parquet(streamed), table)
    # Large steps are converted and written in slices (one row group each): same table.
    monkeypatch.setattr(tables, "_MIN_SLICE", 61)
    sliced = tmp_path / "sliced.parquet"
    ingest_to_parquet(spec, sliced)
    assert pq.ParquetFile(sliced).num_row_groups > 1
    pd.testing.assert_frame_equal(pd.read_parquet(sliced), table)
