"""Generator-level objects paired with reconstructed ones in real Pythia8 events."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepgen.simulate import DetectorConfig, simulate
from hepgen.simulate.detector import (
    ecal_angle_resolution,
    ecal_resolution,
    jet_angle_resolution,
    jet_resolution,
    muon_resolution,
    track_angle_resolution,
)
from hepgen.simulate.truth import delta_r2

CONFIG = DetectorConfig()
CONES = {"lep": CONFIG.lep_match_dr, "jet": CONFIG.jet_match_dr, "photon": CONFIG.photon_match_dr}


@pytest.fixture(scope="module")
def dy():
    return simulate("dy_ll", events=400, seed=21)[0]


@pytest.fixture(scope="module")
def ttbar():
    return simulate("ttbar_semilep", events=200, seed=22)[0]


@pytest.fixture(scope="module")
def zgamma():
    return simulate("z_gamma", events=300, seed=23)[0]


def pairs(branches: dict, name: str) -> tuple[ak.Array, ak.Array, ak.Array]:
    """Gen objects, reco objects and the gen → reco indices of collection ``name``."""
    fields = ("pt", "eta", "phi", "e")
    gen = ak.zip({k: branches[f"gen_{name}_{k}"] for k in fields})
    reco = ak.zip({k: branches[f"{name}_{k}"] for k in fields})
    return gen, reco, branches[f"gen_{name}_reco"]


def matched(branches: dict, name: str) -> tuple[ak.Array, ak.Array]:
    """Flat (gen, reco) records of the matched pairs."""
    gen, reco, index = pairs(branches, name)
    found = index >= 0
    return ak.flatten(gen[found]), ak.flatten(reco[index[found]])


@pytest.mark.parametrize("sample", ["dy", "ttbar", "zgamma"])
@pytest.mark.parametrize("name", ["lep", "jet", "photon"])
def test_match_indices_are_valid(sample, name, request):
    branches = request.getfixturevalue(sample)
    gen, reco, index = pairs(branches, name)
    assert ak.all(ak.num(index) == ak.num(gen))
    assert str(ak.type(index)).endswith("int32")
    assert ak.all((index >= -1) & (index < ak.num(reco)))
    for row in ak.to_list(index):  # every reco object used at most once
        used = [i for i in row if i >= 0]
        assert len(used) == len(set(used))
    g, r = matched(branches, name)
    d2 = ak.to_numpy(ak.flatten(delta_r2(g[:, np.newaxis], r[:, np.newaxis]), axis=None))
    assert np.all(d2 < CONES[name] ** 2)
    # Generator level: prompt e/μ/γ and jets within the calorimeter, above the gen thresholds.
    assert ak.all(abs(gen.eta) < CONFIG.calo_eta_max)
    threshold = getattr(CONFIG, f"gen_{name}_pt_min")
    assert ak.all(gen.pt > threshold)


def test_matched_muons_are_close_in_pt(dy):
    g, r = matched(dy, "lep")
    assert len(g) > 400
    pull = ak.to_numpy((r.pt / g.pt - 1.0) / muon_resolution(g.pt, CONFIG))
    assert np.all(np.abs(pull) < 6.0)
    assert np.std(pull) == pytest.approx(1.0, abs=4 / np.sqrt(2 * len(pull)))


def test_muon_efficiency_in_acceptance(dy):
    gen, _, index = pairs(dy, "lep")
    assert ak.all(abs(dy["gen_lep_pdgid"]) == 13)
    assert ak.mean(ak.num(gen)) == pytest.approx(2.0, abs=0.1)  # two prompt muons per event
    found = ak.to_numpy(ak.flatten(index >= 0))
    central = ak.to_numpy(ak.flatten((abs(gen.eta) < 2.4) & (gen.pt > 15.0)))
    assert 0.3 < found.mean() < 0.9  # forward muons are in the list but never reconstructed
    assert found[central].mean() > 0.93
    assert not found[ak.to_numpy(ak.flatten(abs(gen.eta) > 2.6))].any()
    # Nearly every reconstructed muon is a prompt one.
    n_reco = ak.sum(ak.num(dy["lep_pt"]))
    assert found.sum() >= 0.97 * n_reco


def test_matched_jets_pt_and_direction_pulls(ttbar):
    g, r = matched(ttbar, "jet")
    keep = ak.to_numpy((g.pt > 40.0) & (abs(g.eta) < 2.3))
    g, r = g[keep], r[keep]
    assert len(g) > 300
    gpt = ak.to_numpy(g.pt)
    pt_pull = (ak.to_numpy(r.pt) / gpt - 1.0) / jet_resolution(gpt, CONFIG)
    sigma = jet_angle_resolution(gpt, CONFIG)
    eta_pull = ak.to_numpy(r.eta - g.eta) / sigma
    phi_pull = ak.to_numpy((r.phi - g.phi + np.pi) % (2 * np.pi) - np.pi) / sigma
    tolerance = 4 / np.sqrt(2 * len(g))
    for pull in (pt_pull, eta_pull, phi_pull):
        assert np.std(pull) == pytest.approx(1.0, abs=tolerance)
        assert np.mean(pull) == pytest.approx(0.0, abs=4 / np.sqrt(len(g)))


def test_jet_efficiency_rises_through_the_reco_threshold(ttbar):
    gen, _, index = pairs(ttbar, "jet")
    central = abs(gen.eta) < 2.3
    pt = ak.to_numpy(ak.flatten(gen.pt[central]))
    found = ak.to_numpy(ak.flatten(index[central] >= 0))
    low, high = found[pt < 15.0], found[pt > 40.0]
    assert len(low) > 50 and len(high) > 300
    assert low.mean() < 0.2  # below the 20 GeV reco threshold: migration only
    assert high.mean() > 0.95


def test_muon_direction_pulls(dy):
    g, r = matched(dy, "lep")
    sigma = track_angle_resolution(ak.to_numpy(g.pt), CONFIG)
    eta_pull = ak.to_numpy(r.eta - g.eta) / sigma
    phi_pull = ak.to_numpy((r.phi - g.phi + np.pi) % (2 * np.pi) - np.pi) / sigma
    for pull in (eta_pull, phi_pull):
        assert np.std(pull) == pytest.approx(1.0, abs=4 / np.sqrt(2 * len(pull)))


def test_photons_are_paired_in_z_gamma(zgamma):
    gen, _, index = pairs(zgamma, "photon")
    g, r = matched(zgamma, "photon")
    assert len(g) > 100
    e = ak.to_numpy(g.e)
    e_pull = (ak.to_numpy(r.e) / e - 1.0) / ecal_resolution(e, CONFIG)
    eta_pull = ak.to_numpy(r.eta - g.eta) / ecal_angle_resolution(e, CONFIG)
    assert np.all(np.abs(e_pull) < 6.0)
    assert np.std(eta_pull) == pytest.approx(1.0, abs=4 / np.sqrt(2 * len(g)))
    found = ak.to_numpy(ak.flatten(index >= 0))
    assert 0.0 < found.mean() < 1.0
