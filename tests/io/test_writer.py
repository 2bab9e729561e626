"""ROOT output in a dataset's own input schema: ingesting what the writer wrote with the
dataset's ingestion config gives back the generated events, for every input convention."""

from __future__ import annotations

import copy

import awkward as ak
import numpy as np
import pytest
import uproot
from generator_setup import DATASET, train_generator

from hepgen.errors import HepgenError
from hepgen.io import DatasetSpec, ingest
from hepgen.io.writer import root_branches, to_awkward, write_root

MU, JET = DATASET["objects"]


def _nanoaod() -> dict:
    """Polar with mass and NanoAOD names (prefix ``Muon_`` → ``Muon_pt``, counter ``nMuon``)."""
    mu = {**MU, "prefix": "Muon_", "kinematics": "ptetaphim", "fields": {"charge": "Muon_charge"}}
    jet = {**JET, "prefix": "Jet_", "kinematics": "ptetaphim", "fields": {"btag": "Jet_btagDeepB"}}
    return {
        "tree": "Events",
        "objects": [mu, jet],
        "met": {"pt": "MET_pt", "phi": "MET_phi"},
        "weight": "genWeight",
    }


def _cartesian() -> dict:
    """Cartesian kinematics with explicit branch names and Cartesian MET."""
    mu = {k: v for k, v in MU.items() if k != "prefix"} | {"kinematics": "pxpypze"}
    mu["branches"] = {f: f"muon_{f}" for f in ("px", "py", "pz", "e")}
    mu["fields"] = {"charge": "muon_q"}
    jet = {k: v for k, v in JET.items() if k != "prefix"} | {"kinematics": "pxpypze"}
    jet["branches"] = {f: f"j_{f}" for f in ("px", "py", "pz", "e")}
    return {"objects": [mu, jet], "met": {"px": "met_x", "py": "met_y"}, "weight": "w"}


def _flat() -> dict:
    """Per-slot flat branches (``pt1``, ``pt2`` …), as in flat ntuples."""
    objects = []
    for obj, stem in ((MU, "mu"), (JET, "jet")):
        entry = {k: v for k, v in obj.items() if k not in {"prefix", "fields"}}
        fields = ("pt", "eta", "phi", "e", *obj["fields"])
        entry["branches"] = {f: [f"{stem}{k}_{f}_b" for k in (1, 2)] for f in fields}
        entry["fields"] = {f: entry["branches"].pop(f) for f in obj["fields"]}
        objects.append(entry)
    return {"objects": objects, "met": DATASET["met"], "weight": "weight"}


CONVENTIONS = {
    "polar_e_prefix": lambda: copy.deepcopy(DATASET),
    "polar_mass_nanoaod": _nanoaod,
    "cartesian": _cartesian,
    "flat_slots": _flat,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Events drawn from a generator trained here, with the jets' absent slots included."""
    generator = __import__("hepgen").load_generator(
        train_generator(tmp_path_factory.mktemp("writer"))
    )
    table = generator.sample(3000, seed=12, device="cpu")
    assert (table["jet1_pt"] == 0).any() and (table["jet1_pt"] > 0).any()
    return table


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_ingesting_the_written_file_gives_back_the_generated_events(
    tmp_path, generated, convention
):
    entry = CONVENTIONS[convention]()
    path = tmp_path / "events.root"
    spec = DatasetSpec.from_config(entry, files=[str(path)])
    assert write_root(path, [generated[:1000], generated[1000:]], spec, weight=0.25) == len(
        generated
    )
    back, stats = ingest(spec)
    assert stats["events"] == len(generated)
    assert list(back.columns) == [*generated.columns, "weight"]
    np.testing.assert_allclose(back["weight"], 0.25)
    for column in generated.columns:
        expected = generated[column].to_numpy()
        # float32 branches; Cartesian and mass conventions also round in the conversion
        np.testing.assert_allclose(back[column], expected, rtol=3e-6, atol=3e-5, err_msg=column)
    absent = generated["jet2_pt"] == 0
    assert (back.loc[absent, ["jet2_pt", "jet2_eta", "jet2_e", "jet2_btag"]] == 0).all().all()


def test_branches_are_named_and_shaped_as_the_input(tmp_path, generated):
    path = tmp_path / "nano.root"
    spec = DatasetSpec.from_config(_nanoaod(), files=[str(path)])
    write_root(path, generated, spec, weight=2.0)
    tree = uproot.open(path)["Events"]
    assert {"nMuon", "Muon_pt", "Muon_mass", "Muon_charge", "nJet", "Jet_btagDeepB"} <= set(
        tree.keys()
    )
    assert "Muon_e" not in tree.keys()
    jets = tree["Jet_pt"].array()
    present = (generated[["jet1_pt", "jet2_pt"]] > 0).sum(axis=1).to_numpy()
    np.testing.assert_array_equal(ak.num(jets), present)  # absent jets absent, not zero
    np.testing.assert_array_equal(tree["nJet"].array(library="np"), present)
    assert ak.all(jets > 20.0)
    mass = tree["Muon_mass"].array()
    np.testing.assert_allclose(ak.flatten(mass), 0.10566, rtol=0.05)  # fixed muon mass


def test_flat_slots_hold_zeros_and_a_count(tmp_path, generated):
    path = tmp_path / "flat.root"
    spec = DatasetSpec.from_config(_flat(), files=[str(path)])
    write_root(path, generated, spec)
    arrays = uproot.open(path)["events"].arrays(library="np")
    present = (generated[["jet1_pt", "jet2_pt"]] > 0).sum(axis=1).to_numpy()
    np.testing.assert_array_equal(arrays["n_jet"], present)
    assert (arrays["jet2_pt_b"][present < 2] == 0).all()
    np.testing.assert_allclose(arrays["weight"], 1.0)


def test_awkward_events_are_jagged_four_vectors(generated):
    events = to_awkward(generated, DatasetSpec.from_config(DATASET, files=[]))
    assert len(events) == len(generated)
    present = (generated[["jet1_pt", "jet2_pt"]] > 0).sum(axis=1).to_numpy()
    np.testing.assert_array_equal(ak.num(events.jet), present)
    dimuon = events.mu[:, 0] + events.mu[:, 1]  # vector behaviour: Lorentz sums
    assert dimuon.pt.ndim == 1
    p = {k: generated[f"mu1_{k}"].to_numpy() for k in ("pt", "eta", "phi", "e")}
    np.testing.assert_allclose(events.mu[:, 0].pz, p["pt"] * np.sinh(p["eta"]), rtol=1e-9)
    assert ak.all(dimuon.mass > 0)
    np.testing.assert_allclose(events.met, generated["met"])


def test_a_table_without_a_collection_and_an_empty_write_are_refused(tmp_path, generated):
    spec = DatasetSpec.from_config(DATASET, files=[])
    with pytest.raises(HepgenError, match=r"lacks columns \['jet1_pt', 'jet2_pt'\]"):
        root_branches(generated.drop(columns=["jet1_pt", "jet2_pt"]), spec)
    with pytest.raises(HepgenError, match="no events to write"):
        write_root(tmp_path / "empty.root", [], spec)
    assert list(tmp_path.iterdir()) == []
