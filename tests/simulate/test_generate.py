"""Event generation with real Pythia8 for every process, reproducibility and run statistics."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepgen.errors import HepgenError
from hepgen.simulate import simulate
from hepgen.simulate.generate import heavy_hadrons, pythia_seed
from hepgen.simulate.ntuple import COLLECTIONS, FLAT, GEN_COLLECTIONS

M_Z = 91.1876  # GeV


@pytest.fixture(scope="module")
def dy():
    return simulate("dy_ll", events=300, seed=1)


@pytest.fixture(scope="module")
def ttbar():
    return simulate("ttbar_semilep", events=200, seed=2)


@pytest.fixture(scope="module")
def zgamma():
    return simulate("z_gamma", events=200, seed=3)


def dilepton_mass(branches: dict) -> np.ndarray:
    """Invariant mass [GeV] of the two leading leptons in events where they have opposite charge."""
    lep = ak.zip({k: branches[f"lep_{k}"] for k in ("pt", "eta", "phi", "e", "charge")})
    two = lep[ak.num(lep) >= 2]
    a, b = two[:, 0], two[:, 1]
    px = a.pt * np.cos(a.phi) + b.pt * np.cos(b.phi)
    py = a.pt * np.sin(a.phi) + b.pt * np.sin(b.phi)
    pz = a.pt * np.sinh(a.eta) + b.pt * np.sinh(b.eta)
    m2 = (a.e + b.e) ** 2 - px**2 - py**2 - pz**2
    return ak.to_numpy(np.sqrt(np.maximum(m2, 0.0))[a.charge != b.charge])


@pytest.mark.parametrize("name", ["dy", "ttbar", "zgamma"])
def test_branches_have_one_entry_per_event(name, request):
    branches, stats = request.getfixturevalue(name)
    collections = {**COLLECTIONS, **GEN_COLLECTIONS}
    expected = {f"{c}_{f}" for c, fields in collections.items() for f in fields} | set(FLAT)
    assert set(branches) == expected
    assert all(len(v) == stats["events"] for v in branches.values())
    assert np.all(branches["weight"] == 1.0)
    for c in collections:
        pt = branches[f"{c}_pt"]
        assert ak.all(pt[:, :-1] >= pt[:, 1:]), f"{c} not pT-ordered"
    for c in COLLECTIONS:
        assert ak.all(abs(branches[f"{c}_eta"]) < 2.5)
    for c in GEN_COLLECTIONS:
        assert ak.all(abs(branches[f"{c}_eta"]) < 4.9)
    assert ak.all(branches["lep_pt"] > 10.0) and ak.all(branches["jet_pt"] > 20.0)
    assert ak.all(branches["lep_charge"] == -np.sign(branches["lep_pdgid"]))


def test_dy_dimuon_mass_peaks_at_the_z(dy):
    branches, stats = dy
    assert stats["events"] == 300
    assert ak.mean(abs(ak.flatten(branches["lep_pdgid"])) == 13) > 0.99
    mass = dilepton_mass(branches)
    assert len(mass) > 0.3 * 300  # both muons in |η| < 2.5 and pT > 10 GeV
    assert np.mean(np.abs(mass - M_Z) < 10.0) > 0.7
    assert np.median(mass) == pytest.approx(M_Z, abs=2.0)
    assert np.mean(branches["met"]) < 20.0  # no neutrinos from the hard process
    assert 1000.0 < stats["sigma_pb"] < 2500.0  # σ(Z/γ* → μμ, m > 50 GeV) at LO ≈ 1.5 nb
    assert stats["sigma_err_pb"] < 0.1 * stats["sigma_pb"]
    assert stats["rate_hz"] == pytest.approx(stats["events"] / stats["seconds"])


def test_dy_electron_channel():
    branches, _ = simulate("dy_ll", events=150, seed=4, options={"lepton": "e"})
    assert ak.mean(abs(ak.flatten(branches["lep_pdgid"])) == 11) > 0.95
    assert np.median(dilepton_mass(branches)) == pytest.approx(M_Z, abs=3.0)


def test_ttbar_semileptonic_content(ttbar, dy):
    branches, stats = ttbar
    njet, nlep = ak.num(branches["jet_pt"]), ak.num(branches["lep_pt"])
    assert ak.mean(njet) > 3.5
    assert ak.mean(njet >= 4) > 0.5
    assert ak.mean(ak.any(branches["jet_btag"], axis=1)) > 0.6  # two b jets, ε_b = 0.7
    assert ak.mean(nlep == 1) > 0.6
    assert ak.mean(nlep >= 2) < 0.05  # exactly one W → μν at generator level
    assert np.mean(branches["met"]) > 2 * np.mean(dy[0]["met"])  # the neutrino
    # W → μν or qq' open, one of each kept: 2 p (1 - p) with p = BR(μν) / (BR(μν) + BR(qq')).
    assert 0.17 < stats["veto_acceptance"] < 0.31
    assert 40.0 < stats["sigma_pb"] < 130.0  # σ(tt̄) · 2 BR(μν) BR(qq') at LO ≈ 75 pb


def test_zgamma_has_isolated_photons(zgamma):
    branches, stats = zgamma
    assert ak.mean(ak.num(branches["photon_pt"]) > 0) > 0.4
    assert ak.all(branches["photon_pt"] > 10.0)
    assert ak.mean(abs(ak.flatten(branches["lep_pdgid"])) == 13) > 0.99
    assert 0.5 < stats["sigma_pb"] < 20.0


def test_same_seed_identical_different_seed_different():
    a, _ = simulate("dy_ll", events=60, seed=11)
    b, _ = simulate("dy_ll", events=60, seed=11)
    c, _ = simulate("dy_ll", events=60, seed=12)
    for key in a:
        assert ak.to_list(a[key]) == ak.to_list(b[key]), key
    assert not np.array_equal(a["met"], c["met"])
    assert ak.to_list(a["lep_pt"]) != ak.to_list(c["lep_pt"])


def test_large_seed_is_mapped_into_pythia_range():
    assert pythia_seed(0) == 1
    assert pythia_seed(899_999_999) == 900_000_000
    assert pythia_seed(900_000_000) == 1
    assert 1 <= pythia_seed(2**40 + 17) <= 900_000_000
    branches, stats = simulate("dy_ll", events=5, seed=2**40 + 17)
    assert stats["seed"] == 2**40 + 17
    assert len(branches["met"]) == 5


@pytest.mark.parametrize("events", [0, -3, 2.5])
def test_bad_event_count_raises(events):
    with pytest.raises(HepgenError, match="events"):
        simulate("dy_ll", events=events, seed=1)


def test_bad_seed_and_process_raise():
    with pytest.raises(HepgenError, match="seed"):
        simulate("dy_ll", events=10, seed=-1)
    with pytest.raises(HepgenError, match="'drell_yan'"):
        simulate("drell_yan", events=10, seed=1)
    with pytest.raises(HepgenError, match="'leptons'"):
        simulate("dy_ll", events=10, seed=1, options={"leptons": "mu"})


def test_heavy_hadron_flavours():
    ids = ak.Array([[511, -521, 5122, 553, 10513, 421, -4122, 443, 211, 2212, 5, -4, 5101, 22, 11]])
    expected = [[5, 5, 5, 5, 5, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0]]
    assert heavy_hadrons(ids).tolist() == expected
