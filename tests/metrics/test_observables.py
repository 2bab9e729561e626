"""Tests of the physics observables computed from event-table four-vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vector

from hepgen.preprocessing import apply_cuts, fit_cuts
from hepgen.preprocessing.observables import (
    M_TOP,
    M_W,
    collections,
    derived_columns,
    derived_table,
    lepton_pair,
    observables,
)

M_Z = 91.19  # GeV, the mass of the toy Z (tests/metrics/conftest.py)


def _columns(prefix: str, k: int, v: vector.MomentumNumpy4D) -> dict[str, np.ndarray]:
    return {
        f"{prefix}{k}_pt": v.pt,
        f"{prefix}{k}_eta": v.eta,
        f"{prefix}{k}_phi": v.phi,
        f"{prefix}{k}_e": v.E,
    }


def test_dimuon_mass_is_the_z_mass(dimuon) -> None:
    events = dimuon(2000, 0, width=0.0)  # every Z exactly on shell
    obs = observables(events)
    assert list(obs.columns) == ["m_mumu", "pt_mumu", "y_mumu", "dr_mumu", "mt"]
    np.testing.assert_allclose(obs["m_mumu"], M_Z, rtol=1e-9)
    # m_T of the leading muon and the missing momentum, by hand.
    dphi = events["mu1_phi"] - events["met_phi"]
    expected = np.sqrt(2 * events["mu1_pt"] * events["met"] * (1 - np.cos(dphi)))
    np.testing.assert_allclose(obs["mt"], expected, rtol=1e-9)
    assert (obs["dr_mumu"] > 0).all()


def test_absent_objects_give_nan_and_flavours_name_the_pair(dimuon) -> None:
    events = dimuon(10, 1)
    events.loc[3, ["mu2_pt", "mu2_eta", "mu2_phi", "mu2_e"]] = 0.0  # zero padding
    obs = observables(events)
    assert np.isnan(obs.loc[3, "m_mumu"]) and np.isfinite(obs.loc[3, "mt"])
    assert obs.drop(index=3)["m_mumu"].notna().all()
    assert lepton_pair(["e"]) == "ee" and lepton_pair(["mu", "e"]) == "ll"
    assert collections(["mu1_pt", "mu1_eta", "mu1_phi", "mu1_e", "mu2_pt", "met"]) == {"mu": 1}


def test_space_like_sums_have_negative_mass() -> None:
    # Two muons whose energies are too small for their momenta (E < |p|): m^2 < 0.
    table = pd.DataFrame(
        {
            "mu1_pt": [40.0], "mu1_eta": [0.0], "mu1_phi": [0.0], "mu1_e": [10.0],
            "mu2_pt": [40.0], "mu2_eta": [0.0], "mu2_phi": [0.0], "mu2_e": [10.0],
        }
    )  # fmt: skip
    assert observables(table).loc[0, "m_mumu"] == pytest.approx(-np.sqrt(80.0**2 - 20.0**2))


def test_hadronic_top_and_w_candidates() -> None:
    # A top at rest decaying to b W, W -> q q', plus a soft extra jet and a lepton.
    rng = np.random.default_rng(2)
    n = 200
    p_b = (M_TOP**2 - M_W**2) / (2 * M_TOP)
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    b = vector.array(
        {
            "px": p_b * axis[:, 0],
            "py": p_b * axis[:, 1],
            "pz": p_b * axis[:, 2],
            "E": np.full(n, p_b),
        }
    )
    w = vector.array(
        {"px": -b.px, "py": -b.py, "pz": -b.pz, "E": np.full(n, np.sqrt(p_b**2 + M_W**2))}
    )
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    half = M_W / 2
    q1 = vector.array(
        {
            "px": half * direction[:, 0],
            "py": half * direction[:, 1],
            "pz": half * direction[:, 2],
            "E": np.full(n, half),
        }
    ).boost_p4(w)
    q2 = vector.array(
        {
            "px": -half * direction[:, 0],
            "py": -half * direction[:, 1],
            "pz": -half * direction[:, 2],
            "E": np.full(n, half),
        }
    ).boost_p4(w)
    extra = vector.array(
        {
            "pt": np.full(n, 25.0),
            "eta": rng.normal(size=n),
            "phi": rng.uniform(-3, 3, n),
            "mass": np.zeros(n),
        }
    )
    lepton = vector.array(
        {"pt": np.full(n, 30.0), "eta": np.zeros(n), "phi": np.zeros(n), "mass": np.zeros(n)}
    )
    table = {**_columns("mu", 1, lepton), "met": np.full(n, 40.0), "met_phi": np.full(n, np.pi)}
    for k, v in enumerate((q1, q2, extra), start=1):
        table.update(_columns("jet", k, v))
    table.update(_columns("bjet", 1, b))
    hard = (np.minimum(np.minimum(q1.pt, q2.pt), b.pt) > 5.0) & (np.abs(q1.eta) < 5.0)
    hard &= np.abs(q2.eta) < 5.0  # (drop the few events with a jet along the beam)
    table = {key: value[hard] for key, value in table.items()}
    q1, q2, b = q1[hard], q2[hard], b[hard]
    obs = observables(pd.DataFrame(table))
    assert len(obs) > 150
    np.testing.assert_allclose(obs["m_jjb_top"], M_TOP, rtol=1e-6)
    np.testing.assert_allclose(obs["n_jets"], 4.0)
    np.testing.assert_allclose(obs["ht"], q1.pt + q2.pt + 25.0 + b.pt)
    np.testing.assert_allclose(obs["mt"], np.sqrt(2 * 30.0 * 40.0 * 2))  # back to back
    # The true q q' pair has exactly m_W, so it is the light pair closest to it; the b-tagged
    # jet completes the top although the extra light jet is available.
    np.testing.assert_allclose(obs["m_jj_w"], M_W, rtol=1e-6)


def test_tail_cuts_on_derived_observables_keep_events_without_them(dimuon) -> None:
    """A tail cut may name an observable the table lacks (Lebese's m_ll, pT_ll, m_T cuts)."""
    events = dimuon(4000, 2)
    events.loc[:99, ["mu2_pt", "mu2_eta", "mu2_phi", "mu2_e"]] = 0.0  # 100 single-muon events
    names = derived_columns(events, ["m_*", "mt", "mu1_pt"])
    assert names == ["m_mumu", "mt"]  # mu1_pt is a column already: not derived
    table = events.join(derived_table(events, names))
    config = {"features": {"m_mumu": {"high": 0.9}, "mt": {"high": 0.95}}}
    cuts = fit_cuts(table, names, config)
    m_ll = table["m_mumu"].dropna()
    assert cuts["m_mumu"] == [-np.inf, pytest.approx(np.quantile(m_ll, 0.9))]
    kept, removed = apply_cuts(table, cuts)
    single = table[table["m_mumu"].isna()]  # no m_mumu: only their m_T can remove them
    assert kept["m_mumu"].isna().sum() == (~(single["mt"] > cuts["mt"][1])).sum() > 90
    assert (kept["m_mumu"].dropna() <= cuts["m_mumu"][1]).all()
    assert (kept["mt"] <= cuts["mt"][1]).all()
    assert 0.10 < removed < 0.15  # about 10 % by m_ll, 5 % by m_T, partly the same events


def test_a_photon_with_two_leptons_gives_the_z_gamma_system(dimuon) -> None:
    events = dimuon(500, 3)
    rng = np.random.default_rng(3)
    photon = vector.array(
        {
            "pt": rng.uniform(15.0, 80.0, 500),
            "eta": rng.uniform(-2.0, 2.0, 500),
            "phi": rng.uniform(-np.pi, np.pi, 500),
            "mass": np.zeros(500),
        }
    )
    events = events.assign(**_columns("photon", 1, photon))
    events.loc[7, ["photon1_pt", "photon1_eta", "photon1_phi", "photon1_e"]] = 0.0  # none
    obs = observables(events)
    mu1 = vector.array(
        {
            f: events[f"mu1_{c}"]
            for f, c in zip(("pt", "eta", "phi", "E"), ("pt", "eta", "phi", "e"), strict=True)
        }
    )
    mu2 = vector.array(
        {
            f: events[f"mu2_{c}"]
            for f, c in zip(("pt", "eta", "phi", "E"), ("pt", "eta", "phi", "e"), strict=True)
        }
    )
    expected = (mu1 + mu2 + photon).mass
    keep = np.arange(500) != 7
    np.testing.assert_allclose(obs["m_mumua"][keep], expected[keep], rtol=1e-9)
    assert (obs["m_mumua"][keep] > obs["m_mumu"][keep]).all()  # a photon adds mass
    assert np.isnan(obs.loc[7, ["m_mumua", "pt_mumua", "dr_mumua"]]).all()
    assert obs.loc[7, "m_mumu"] > 0
