"""Generator-level collections, ΔR matching and angular smearing on synthetic particle events."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from scipy.stats import norm

from hepgen.simulate.detector import (
    DetectorConfig,
    ecal_angle_resolution,
    jet_angle_resolution,
    jet_resolution,
    track_angle_resolution,
    wrap_phi,
)
from hepgen.simulate.reco import reconstruct
from hepgen.simulate.truth import match_by_dr

CONFIG = DetectorConfig()
M_MU = 0.10566  # GeV


def particles(events, mass=0.0, prompt=None) -> ak.Array:
    """Final-state particles from per-event lists of (pt, eta, phi, pdg id), all of one mass.

    ``prompt``: per-event lists of booleans (one per particle); ``None`` leaves the field out.
    """
    counts = [len(e) for e in events]
    flat = np.array([p for e in events for p in e], dtype=float).reshape(-1, 4)
    pt, eta, phi, pid = flat.T
    pz = pt * np.sinh(eta)
    fields = {
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pz,
        "e": np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2),
        "id": pid.astype(np.int32),
    }
    if prompt is not None:
        fields["prompt"] = np.array([p for e in prompt for p in e], dtype=bool)
    return ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()})


def run(events, seed=0, config=CONFIG, mass=0.0, prompt=None):
    heavy = ak.zip({k: ak.Array([[] for _ in events]) for k in ("px", "py", "pz", "flavour")})
    return reconstruct(particles(events, mass, prompt), heavy, config, np.random.default_rng(seed))


def objects(out, name):
    return ak.zip({k: out[f"{name}_{k}"] for k in ("pt", "eta", "phi")})


def test_match_takes_the_closest_pair_first_and_each_reco_once():
    gen = ak.Array([[{"eta": 0.0, "phi": 0.0}, {"eta": 0.0, "phi": 0.08}], []])
    reco = ak.Array([[{"eta": 0.0, "phi": 0.05}, {"eta": 0.0, "phi": 0.12}], []])
    # ΔR: (g0, r0) 0.05, (g1, r0) 0.03, (g1, r1) 0.04; g1 takes r0, g0 finds r0 used.
    assert match_by_dr(gen, reco, 0.1).tolist() == [[-1, 0], []]
    assert match_by_dr(gen, reco, 0.02).tolist() == [[-1, -1], []]


def test_match_wraps_phi_and_keeps_events_apart():
    gen = ak.Array([[{"eta": 1.0, "phi": np.pi - 0.01}], [{"eta": 0.0, "phi": 0.0}] * 2])
    reco = ak.Array([[{"eta": 1.0, "phi": -np.pi + 0.01}], [{"eta": 0.01, "phi": 0.0}]])
    assert match_by_dr(gen, reco, 0.1).tolist() == [[0], [0, -1]]
    assert match_by_dr(gen[:, :0], reco, 0.1).tolist() == [[], []]
    assert match_by_dr(gen, reco[:, :0], 0.1).tolist() == [[-1], [-1, -1]]


def test_wrap_phi_range():
    phi = np.array([0.0, np.pi, -np.pi, 3 * np.pi, -3 * np.pi + 1e-12, 7.0, -7.0])
    wrapped = wrap_phi(phi)
    assert np.all(wrapped > -np.pi) and np.all(wrapped <= np.pi)
    assert wrapped[:4] == pytest.approx([0.0, np.pi, np.pi, np.pi])
    assert np.cos(wrapped) == pytest.approx(np.cos(phi))
    assert np.sin(wrapped) == pytest.approx(np.sin(phi), abs=1e-9)


def test_gen_leptons_need_no_reconstruction_but_must_be_prompt():
    event = [
        (40.0, 0.5, 1.0, 13),  # isolated, reconstructed
        (30.0, 3.0, -2.0, -13),  # beyond the tracker, within the calorimeter: not reconstructed
        (8.0, -1.0, 2.5, 11),  # above the gen threshold, below the reco one
        (4.0, 1.0, -0.5, 13),  # below the gen threshold
        (25.0, -0.5, -1.0, 13),  # from a hadron decay: not prompt
    ]
    prompt = [[True, True, True, True, False]]
    out = run([event], prompt=prompt)
    assert out["gen_lep_pt"][0].tolist() == pytest.approx([40.0, 30.0, 8.0])
    assert out["gen_lep_pdgid"].tolist() == [[13, -13, 11]]
    assert out["gen_lep_charge"].tolist() == [[-1, 1, -1]]
    assert out["lep_pdgid"].tolist() == [[13, 13]]  # the non-prompt muon is reconstructed too
    matched = out["lep_pt"][0, out["gen_lep_reco"][0, 0]]
    assert matched == pytest.approx(40.0, rel=0.05)
    assert out["gen_lep_reco"].tolist()[0][1:] == [-1, -1]


def test_gen_jets_below_reco_threshold_are_kept_unmatched():
    # A 12 GeV pion makes a gen jet (> 10 GeV), and a reco jet (> 20 GeV) only when its
    # response fluctuates up by 20/12 - 1 = 2 σ (σ = 33 % at 12 GeV).
    n = 1000
    out = run([[(12.0, 0.3, 0.0, 211), (80.0, -1.0, 2.0, 211)]] * n, seed=2)
    assert ak.all(ak.num(out["gen_jet_pt"]) == 2)
    assert out["gen_jet_pt"][:, 0].tolist() == pytest.approx([80.0] * n)
    assert ak.all(out["gen_jet_reco"][:, 0] == 0)
    soft_found = ak.to_numpy(out["gen_jet_reco"][:, 1] >= 0)
    expected = norm.sf((20.0 / 12.0 - 1.0) / jet_resolution(np.array(12.0), CONFIG))
    assert soft_found.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected / n))
    assert ak.all(ak.num(out["jet_pt"]) == 1 + soft_found)
    assert ak.all(out["jet_pt"][soft_found, 1] > 20.0)


def test_gen_photon_matched_and_gen_energies_unsmeared():
    out = run([[(50.0, 0.3, 0.0, 22), (30.0, 0.1, -2.0, -11)]] * 100, seed=4)
    assert ak.flatten(out["gen_photon_e"]).tolist() == pytest.approx([50.0 * np.cosh(0.3)] * 100)
    assert ak.all(out["gen_photon_reco"] == 0) and ak.all(out["gen_lep_reco"] == 0)
    assert ak.all(abs(out["photon_pt"] / out["gen_photon_pt"] - 1.0) < 0.1)


@pytest.mark.parametrize(
    ("particle", "resolution", "name"),
    [
        ((40.0, 0.5, 1.0, 13), lambda: track_angle_resolution(np.array(40.0), CONFIG), "lep"),
        ((8.0, -0.2, 3.1, 13), lambda: track_angle_resolution(np.array(8.0), CONFIG), "lep"),
        (
            (50.0, 0.3, -3.1, 22),
            lambda: ecal_angle_resolution(np.array(50.0 * np.cosh(0.3)), CONFIG),
            "photon",
        ),
        ((60.0, -0.7, 2.0, 211), lambda: jet_angle_resolution(np.array(60.0), CONFIG), "jet"),
        ((30.0, 1.2, -1.0, 211), lambda: jet_angle_resolution(np.array(30.0), CONFIG), "jet"),
    ],
)
def test_angular_smearing_width(particle, resolution, name):
    n = 20_000
    config = DetectorConfig.from_options({"lep_pt_min": 5.0, "jet_pt_min": 10.0})
    out = run([[particle]] * n, seed=7, config=config)
    eta = ak.to_numpy(ak.flatten(out[f"{name}_eta"]))
    phi = ak.to_numpy(ak.flatten(out[f"{name}_phi"]))
    assert len(eta) > 0.99 * n
    assert np.all(phi > -np.pi) and np.all(phi <= np.pi)
    d_eta = eta - particle[1]
    d_phi = wrap_phi(phi - particle[2])
    sigma = float(resolution())
    for d in (d_eta, d_phi):
        assert np.mean(d) == pytest.approx(0.0, abs=4 * sigma / np.sqrt(len(d)))
        assert np.std(d) == pytest.approx(sigma, rel=4 / np.sqrt(2 * len(d)))
    assert np.corrcoef(d_eta, d_phi)[0, 1] == pytest.approx(0.0, abs=4 / np.sqrt(len(d)))


def test_default_angular_resolutions_are_typical_values():
    assert float(track_angle_resolution(np.array(40.0), CONFIG)) < 1e-3
    assert 1e-3 <= float(ecal_angle_resolution(np.array(50.0), CONFIG)) <= 3e-3
    assert 0.02 <= float(jet_angle_resolution(np.array(30.0), CONFIG)) <= 0.05


@pytest.mark.parametrize(
    ("particle", "options", "name"),
    [
        ((40.0, 2.55, 0.0, 13), {"track_angle_constant": 0.05, "track_angle_ms": 0.0}, "lep"),
        ((50.0, -2.55, 0.0, 22), {"ecal_angle_stochastic": 0.0, "ecal_angle_constant": 0.05}, "photon"),
        ((60.0, 2.55, 0.0, 211), {"jet_angle_noise": 0.0, "jet_angle_constant": 0.05}, "jet"),
    ],
)  # fmt: skip
def test_acceptance_acts_on_the_smeared_eta(particle, options, name):
    # True |η| is one σ beyond eta_max = 2.5: a fraction Φ(−1) is smeared into acceptance.
    n = 4000
    out = run([[particle]] * n, seed=8, config=DetectorConfig.from_options(options))
    eta = ak.flatten(out[f"{name}_eta"])
    assert ak.all(abs(eta) < 2.5)
    expected = norm.cdf(-1.0)
    assert len(eta) / n == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))


def test_smeared_muons_keep_their_mass():
    n = 2000
    out = run([[(40.0, 1.5, 1.0, 13), (45.0, -0.5, -2.0, -13)]] * n, seed=9, mass=M_MU)
    pt, eta, e = (ak.to_numpy(ak.flatten(out[f"lep_{k}"])) for k in ("pt", "eta", "e"))
    mass = np.sqrt(e**2 - (pt * np.cosh(eta)) ** 2)
    # The momentum scale factor (σ ≈ 1.1 %) scales the mass; the angles leave it alone.
    assert mass == pytest.approx(np.full(2 * n, M_MU), rel=0.06)
    assert np.std(mass / M_MU) < 0.015
    gen_mass = out["gen_lep_e"] ** 2 - (out["gen_lep_pt"] * np.cosh(out["gen_lep_eta"])) ** 2
    assert ak.to_numpy(ak.flatten(gen_mass)) == pytest.approx(M_MU**2, rel=1e-6)


def test_same_seed_same_directions_and_different_seed_different():
    event = [[(40.0, 0.5, 1.0, 13), (80.0, -0.5, -1.0, 211), (30.0, 1.0, 2.5, 22)]] * 10
    a, b, c = run(event, seed=1), run(event, seed=1), run(event, seed=2)
    for key in a:
        assert ak.to_list(a[key]) == ak.to_list(b[key]), key
    for key in ("lep_eta", "lep_phi", "jet_eta", "photon_phi"):
        assert ak.to_list(a[key]) != ak.to_list(c[key]), key
    assert ak.to_list(a["gen_jet_eta"]) == ak.to_list(c["gen_jet_eta"])
