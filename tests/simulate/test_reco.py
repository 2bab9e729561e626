"""Reconstruction on synthetic particle-level events: isolation, jets, labels, MET, smearing."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepgen.simulate.detector import DetectorConfig, jet_resolution, muon_resolution
from hepgen.simulate.reco import flavour_labels, reconstruct

CONFIG = DetectorConfig()


def particles(events: list[list[tuple[float, float, float, int]]]) -> ak.Array:
    """Massless final-state particles from per-event lists of (pt, eta, phi, pdg id)."""
    counts = [len(e) for e in events]
    flat = np.array([p for e in events for p in e], dtype=float).reshape(-1, 4)
    pt, eta, phi, pid = flat.T
    fields = {
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pt * np.sinh(eta),
        "e": pt * np.cosh(eta),
        "id": pid.astype(np.int32),
    }
    return ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()})


def hadrons(events: list[list[tuple[float, float, float, int]]]) -> ak.Array:
    """Heavy-flavour hadrons from per-event lists of (pt, eta, phi, flavour)."""
    record = particles(events)
    return ak.zip({"px": record.px, "py": record.py, "pz": record.pz, "flavour": record.id})


def no_hadrons(n: int) -> ak.Array:
    return hadrons([[] for _ in range(n)])


def run(events, heavy=None, seed=0, config=CONFIG):
    heavy = no_hadrons(len(events)) if heavy is None else heavy
    return reconstruct(particles(events), heavy, config, np.random.default_rng(seed))


def test_isolated_muon_is_a_lepton_and_not_a_jet():
    out = run([[(40.0, 0.5, 1.0, 13), (3.0, -1.0, -2.0, 211)]])
    assert ak.to_list(out["lep_pdgid"]) == [[13]]
    assert ak.to_list(out["lep_charge"]) == [[-1]]
    # The direction is smeared by the track resolution, 0.2 mrad ⊕ 2 mrad·GeV/pT.
    assert ak.to_list(out["lep_eta"])[0][0] == pytest.approx(0.5, abs=5 * 2.1e-4)
    assert ak.num(out["jet_pt"]).tolist() == [0]


def test_antimuon_and_positron_charges():
    out = run([[(40.0, 0.5, 1.0, -13), (30.0, -0.5, -2.0, -11)]])
    assert ak.to_list(out["lep_pdgid"]) == [[-13, -11]]
    assert ak.to_list(out["lep_charge"]) == [[1, 1]]


def test_non_isolated_muon_goes_into_a_jet():
    # A 12 GeV pion at ΔR = 0.1: cone sum / pT = 0.4 > 0.15, so the muon is not isolated.
    out = run([[(30.0, 0.0, 0.0, 13), (12.0, 0.1, 0.0, 211)]])
    assert ak.num(out["lep_pt"]).tolist() == [0]
    assert ak.num(out["jet_pt"]).tolist() == [1]
    assert out["jet_pt"][0, 0] == pytest.approx(42.0, rel=0.5)


def test_isolation_cone_radius():
    # The same pion just outside ΔR = 0.3 does not spoil isolation and stays below jet threshold.
    out = run([[(30.0, 0.0, 0.0, 13), (12.0, 0.0, 0.31, 211)]])
    assert ak.num(out["lep_pt"]).tolist() == [1]
    assert ak.num(out["jet_pt"]).tolist() == [0]


def test_photon_acceptance_and_threshold():
    out = run([[(50.0, 0.3, 0.0, 22)], [(50.0, 2.7, 0.0, 22)], [(4.0, 0.0, 0.0, 22)]])
    assert ak.num(out["photon_pt"]).tolist() == [1, 0, 0]
    assert ak.num(out["lep_pt"]).tolist() == [0, 0, 0]


def test_neutrinos_are_invisible_and_give_met():
    # μ (40 GeV, φ = 0) recoiling against ν (40 GeV, φ = π): MET ≈ 40 GeV along φ = π.
    out = run([[(40.0, 0.2, 0.0, 13), (40.0, -0.4, np.pi, 14)]])
    assert ak.num(out["lep_pt"]).tolist() == [1]
    assert out["met"][0] == pytest.approx(40.0, rel=0.05)
    assert abs(out["met_phi"][0]) == pytest.approx(np.pi, abs=0.01)


def test_balanced_event_has_small_met():
    event = [(45.0, 0.3, 0.0, 13), (45.0, -0.8, np.pi, -13)]
    out = run([event] * 2000, seed=4)
    # Only the two muon smearings (1.1 % of 45 GeV each) contribute: σ(MET_x) ≈ 0.7 GeV.
    assert np.median(out["met"]) < 1.5
    assert ak.all(ak.num(out["lep_pt"]) == 2)


def test_objects_are_pt_ordered():
    event = [(20.0, 0.0, 0.0, 13), (60.0, 1.0, 2.0, -11), (35.0, -1.0, -2.0, 13)]
    out = run([event] * 50)
    pts = out["lep_pt"]
    assert ak.all(pts[:, :-1] >= pts[:, 1:])
    assert ak.to_list(out["lep_pdgid"][:, 0]) == [-11] * 50


def test_muon_smearing_width_in_reconstruction():
    n, pt = 20_000, 40.0
    out = run([[(pt, 0.5, 1.0, 13)]] * n, seed=5)
    ratio = ak.to_numpy(ak.flatten(out["lep_pt"])) / pt
    assert len(ratio) == n
    assert np.std(ratio) == pytest.approx(muon_resolution(np.array(pt), CONFIG), rel=0.03)
    assert np.mean(ratio) == pytest.approx(1.0, abs=1e-3)


def test_jet_smearing_width_in_reconstruction():
    n, pt = 20_000, 100.0
    out = run([[(pt, -0.7, 2.0, 211)]] * n, seed=6)
    ratio = ak.to_numpy(ak.flatten(out["jet_pt"])) / pt
    assert len(ratio) == n
    assert np.std(ratio) == pytest.approx(jet_resolution(np.array(pt), CONFIG), rel=0.03)
    assert np.mean(ratio) == pytest.approx(1.0, abs=3e-3)


def test_same_seed_same_smearing_and_different_seed_different():
    event = [[(40.0, 0.5, 1.0, 13), (80.0, -0.5, -1.0, 211)]] * 10
    a, b, c = run(event, seed=1), run(event, seed=1), run(event, seed=2)
    assert ak.to_list(a["jet_pt"]) == ak.to_list(b["jet_pt"])
    assert ak.to_list(a["jet_pt"]) != ak.to_list(c["jet_pt"])


def test_flavour_labels_prefer_b_over_c():
    jets = ak.Array(
        [[{"eta": 0.0, "phi": 0.0}, {"eta": 1.0, "phi": 3.1}, {"eta": -1.0, "phi": 1.0}]]
    )
    had = ak.Array(
        [[
            {"eta": 0.2, "phi": 0.1, "flavour": 4},
            {"eta": 0.1, "phi": -0.2, "flavour": 5},
            {"eta": 1.0, "phi": -3.1, "flavour": 4},  # Δφ wraps around: ΔR ≈ 0.08
            {"eta": -1.0, "phi": 1.5, "flavour": 5},  # ΔR = 0.5: too far
        ]]
    )  # fmt: skip
    assert flavour_labels(jets, had, dr=0.4).tolist() == [[5, 4, 0]]


def test_btag_rates_in_reconstruction():
    # One 50 GeV jet per event; a b hadron, a c hadron or nothing at ΔR = 0.2 from it.
    n = 10_000
    jet = [[(50.0, 0.0, 0.0, 211)]] * (3 * n)
    heavy = hadrons([[(20.0, 0.2, 0.0, 5)]] * n + [[(20.0, 0.0, 0.2, 4)]] * n + [[]] * n)
    out = run(jet, heavy=heavy, seed=9)
    tags = ak.to_numpy(ak.flatten(out["jet_btag"]))
    assert len(tags) == 3 * n
    for part, rate in zip(np.split(tags, 3), (0.7, 0.1, 0.01), strict=True):
        assert part.mean() == pytest.approx(rate, abs=4 * np.sqrt(rate * (1 - rate) / n))


def test_soft_hadrons_below_label_threshold_do_not_label():
    heavy = hadrons([[(3.0, 0.1, 0.0, 5)]] * 4000)
    out = run([[(50.0, 0.0, 0.0, 211)]] * 4000, heavy=heavy, seed=3)
    assert ak.mean(ak.flatten(out["jet_btag"])) < 0.03


def test_thresholds_are_configurable():
    config = DetectorConfig.from_options({"lep_pt_min": 50.0, "jet_pt_min": 10.0})
    out = run([[(40.0, 0.0, 0.0, 13), (15.0, 1.5, 2.0, 211)]], config=config)
    assert ak.num(out["lep_pt"]).tolist() == [0]
    assert ak.num(out["jet_pt"]).tolist() == [1]


def test_jet_recoiling_against_neutrino_gives_met():
    jet = [(30.0, 0.0, 0.0, 211), (20.0, 0.1, 0.1, 211), (10.0, -0.1, 0.05, 111)]
    out = run([[*jet, (60.0, 1.0, np.pi, 12)]] * 2000, seed=8)
    assert ak.all(ak.num(out["jet_pt"]) == 1)
    assert np.median(out["met"]) == pytest.approx(60.0, rel=0.03)
    assert np.std(out["met"]) == pytest.approx(
        60.0 * jet_resolution(np.array(60.0), CONFIG), rel=0.1
    )


def test_soft_term_is_smeared_with_stochastic_width():
    # Ten 4 GeV pions, each too soft to make a jet: ΣET_soft = 40 GeV, σ(MET_x) = 0.5 √40 GeV.
    soft = [(4.0, (-1.0) ** i, np.pi + 0.5 * (i - 4.5), 211) for i in range(10)]
    n = 20_000
    out = run([[(40.0, 0.0, 0.0, 13), *soft]] * n, seed=10)
    assert ak.all(ak.num(out["jet_pt"]) == 0) and ak.all(ak.num(out["lep_pt"]) == 1)
    met_x = out["met"] * np.cos(out["met_phi"])
    true_x = -(40.0 + sum(pt * np.cos(phi) for pt, _, phi, _ in soft))
    sigma = np.hypot(0.5 * np.sqrt(40.0), 40.0 * muon_resolution(np.array(40.0), CONFIG))
    assert np.mean(met_x) == pytest.approx(true_x, abs=4 * sigma / np.sqrt(n))
    assert np.std(met_x) == pytest.approx(sigma, rel=0.03)
