"""Object reconstruction from final-state particles: isolated leptons and photons, jets, MET."""

from __future__ import annotations

import awkward as ak
import fastjet
import fastjet._swig
import numpy as np

from hepgen.simulate.detector import (
    DetectorConfig,
    btag,
    ecal_resolution,
    jet_resolution,
    muon_resolution,
    smear_factor,
)

__all__ = ["delta_r2", "flavour_labels", "reconstruct"]

# FastJet (arXiv:1111.6097) prints its banner on stdout at the first clustering; send it nowhere.
fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)


def _polar(px: ak.Array, py: ak.Array, pz: ak.Array) -> tuple[ak.Array, ak.Array, ak.Array]:
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / np.maximum(pt, 1e-9))
    return pt, eta, np.arctan2(py, px)


def delta_r2(a: ak.Array, b: ak.Array) -> ak.Array:
    """Squared distance ΔR² = Δη² + Δφ² of every pair (a_i, b_j) in each event.

    Arguments:
        a: records with ``eta, phi``, shape (events, var).
        b: records with ``eta, phi``, shape (events, var).

    Returns:
        ΔR², shape (events, len(a), len(b)).
    """
    x, y = ak.unzip(ak.cartesian([a, b], axis=1, nested=True))
    dphi = (x.phi - y.phi + np.pi) % (2.0 * np.pi) - np.pi
    return (x.eta - y.eta) ** 2 + dphi**2


def flavour_labels(jets: ak.Array, hadrons: ak.Array, *, dr: float) -> ak.Array:
    """Truth flavour of each jet from ΔR matching to heavy-flavour hadrons.

    Arguments:
        jets: records with ``eta, phi``, shape (events, var).
        hadrons: records with ``eta, phi, flavour`` (5 for b, 4 for c), shape (events, var).
        dr: matching radius.

    Returns:
        Integer labels, shape (events, var): 5 if a b hadron is within ``dr``, else 4 if a
        c hadron is, else 0.
    """
    near = delta_r2(jets, hadrons) < dr**2
    flavour = ak.broadcast_arrays(hadrons.flavour[:, np.newaxis], near)[0]
    has_b = ak.any(near & (flavour == 5), axis=2)
    has_c = ak.any(near & (flavour == 4), axis=2)
    return ak.values_astype(ak.where(has_b, 5, ak.where(has_c, 4, 0)), np.int32)


def _smear(objects: ak.Array, sigma: np.ndarray, rng: np.random.Generator) -> ak.Array:
    k = ak.unflatten(smear_factor(sigma, rng), ak.num(objects))
    return ak.with_field(ak.with_field(objects, objects.pt * k, "pt"), objects.e * k, "e")


def _sorted(objects: ak.Array) -> ak.Array:
    return objects[ak.argsort(objects.pt, axis=1, ascending=False, stable=True)]


def _isolated(vis: ak.Array, config: DetectorConfig) -> ak.Array:
    aid = abs(vis.id)
    is_lep = (aid == 11) | (aid == 13)
    loose = ak.where(is_lep, 0.5 * config.lep_pt_min, 0.5 * config.photon_pt_min)
    cands = vis[(is_lep | (aid == 22)) & (abs(vis.eta) < config.eta_max) & (vis.pt > loose)]
    others = vis[vis.pt > config.iso_pt_min]
    d2 = delta_r2(cands, others)
    same = ak.cartesian([cands.idx, others.idx], axis=1, nested=True)
    same = same["0"] == same["1"]
    cone = ak.sum(ak.where((d2 < config.iso_dr**2) & ~same, others.pt[:, np.newaxis], 0.0), axis=2)
    limit = ak.where(abs(cands.id) == 22, config.photon_iso_max, config.lep_iso_max)
    return cands[cone < limit * cands.pt]


def _cluster(inputs: ak.Array, config: DetectorConfig) -> ak.Array:
    """Anti-kT jets (arXiv:0802.1189) and the scalar pT sum of their constituents."""
    four = ak.zip({"px": inputs.px, "py": inputs.py, "pz": inputs.pz, "E": inputs.e})
    sequence = fastjet.ClusterSequence(
        four, fastjet.JetDefinition(fastjet.antikt_algorithm, config.jet_r)
    )
    min_pt = 0.25 * config.jet_pt_min  # true-pT floor; smearing from below it is negligible
    jets = sequence.inclusive_jets(min_pt)
    index = sequence.constituent_index(min_pt)
    start = np.concatenate([[0], np.cumsum(ak.num(inputs))[:-1]])
    flat_pt = ak.to_numpy(ak.flatten(inputs.pt))[ak.to_numpy(ak.flatten(index + start, axis=None))]
    per_jet = ak.unflatten(flat_pt, ak.flatten(ak.num(index, axis=2)))
    scalar = ak.unflatten(ak.sum(per_jet, axis=1), ak.num(index, axis=1))
    pt, eta, phi = _polar(jets.px, jets.py, jets.pz)
    record = ak.zip({"pt": pt, "eta": eta, "phi": phi, "e": jets.E})
    return _truth_fields(record, jets.px, jets.py, scalar)


def _truth_fields(objects: ak.Array, px: ak.Array, py: ak.Array, sum_pt: ak.Array) -> ak.Array:
    """Attach the true transverse momentum an object takes from the soft term."""
    for name, value in (("tpx", px), ("tpy", py), ("sum_pt", sum_pt)):
        objects = ak.with_field(objects, value, name)
    return objects


def _leptons_photons(
    isolated: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> tuple[ak.Array, ak.Array]:
    isolated = _truth_fields(isolated, isolated.px, isolated.py, isolated.pt)
    lep = isolated[abs(isolated.id) != 22]
    flat = ak.flatten(lep)
    sigma = np.where(
        ak.to_numpy(abs(flat.id)) == 13,
        muon_resolution(ak.to_numpy(flat.pt), config),  # muons: tracker pT measurement
        ecal_resolution(ak.to_numpy(flat.e), config),  # electrons: calorimeter energy
    )
    lep = _smear(lep, sigma, rng)
    photon = isolated[abs(isolated.id) == 22]
    photon = _smear(photon, ecal_resolution(ak.to_numpy(ak.flatten(photon.e)), config), rng)
    lep = _sorted(lep[lep.pt > config.lep_pt_min])
    photon = _sorted(photon[photon.pt > config.photon_pt_min])
    return lep, photon


def _jets(
    inputs: ak.Array, heavy: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> ak.Array:
    jets = _cluster(inputs, config)
    jets = _smear(jets, jet_resolution(ak.to_numpy(ak.flatten(jets.pt)), config), rng)
    jets = _sorted(jets[(jets.pt > config.jet_pt_min) & (abs(jets.eta) < config.eta_max)])
    hpt, heta, hphi = _polar(heavy.px, heavy.py, heavy.pz)
    hadrons = ak.zip({"eta": heta, "phi": hphi, "flavour": heavy.flavour})
    labels = flavour_labels(jets, hadrons[hpt > config.tag_hadron_pt_min], dr=config.tag_dr)
    tags = btag(ak.to_numpy(ak.flatten(labels)), config, rng)
    return ak.with_field(jets, ak.unflatten(tags, ak.num(jets)), "btag")


def _met(
    vis: ak.Array, objects: list[ak.Array], config: DetectorConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """MET (x, y) [GeV], shape (events,): minus reconstructed objects and smeared soft term."""
    soft_x, soft_y, sum_et = ak.sum(vis.px, axis=1), ak.sum(vis.py, axis=1), ak.sum(vis.pt, axis=1)
    reco_x = reco_y = 0.0
    for obj in objects:
        soft_x = soft_x - ak.sum(obj.tpx, axis=1)
        soft_y = soft_y - ak.sum(obj.tpy, axis=1)
        sum_et = sum_et - ak.sum(obj.sum_pt, axis=1)
        reco_x = reco_x + ak.sum(obj.pt * np.cos(obj.phi), axis=1)
        reco_y = reco_y + ak.sum(obj.pt * np.sin(obj.phi), axis=1)
    width = config.soft_stochastic * np.sqrt(np.maximum(ak.to_numpy(sum_et), 0.0))
    noise = width[:, np.newaxis] * rng.standard_normal((len(width), 2))
    return -ak.to_numpy(reco_x + soft_x) - noise[:, 0], -ak.to_numpy(reco_y + soft_y) - noise[:, 1]


def reconstruct(
    final: ak.Array, heavy: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> dict[str, ak.Array | np.ndarray]:
    """Turn final-state particles into reconstructed, pT-ordered objects and MET.

    Isolated e, μ and γ (cone ΔR < ``iso_dr``) are smeared and kept above their pT
    thresholds; all other visible particles with |η| < ``calo_eta_max`` are clustered
    with anti-kT, smeared, thresholded and b-tagged. MET is minus the vector sum of the
    reconstructed objects and of the soft term: the true pT of visible particles used by
    no reconstructed object, smeared per component by ``soft_stochastic``·√ΣET_soft.

    Arguments:
        final: final-state particles with ``px, py, pz, e`` [GeV] and ``id`` (PDG),
            shape (events, var); neutrinos are dropped here.
        heavy: heavy-flavour hadrons with ``px, py, pz`` [GeV] and ``flavour`` (5 or 4),
            shape (events, var).
        config: the detector config.
        rng: the detector's random generator (the only source of randomness).

    Returns:
        Branches: jagged ``lep_*, jet_*, photon_*`` (pT-ordered) and flat ``met, met_phi``.
    """
    pt, eta, phi = _polar(final.px, final.py, final.pz)
    fields = {k: final[k] for k in ("px", "py", "pz", "e", "id")}
    particles = ak.zip({**fields, "pt": pt, "eta": eta, "phi": phi})
    aid = abs(final.id)
    visible = ~((aid == 12) | (aid == 14) | (aid == 16)) & (abs(eta) < config.calo_eta_max)
    vis = particles[visible]
    vis = ak.with_field(vis, ak.local_index(vis), "idx")

    isolated = _isolated(vis, config)
    lep, photon = _leptons_photons(isolated, config, rng)
    start = np.concatenate([[0], np.cumsum(ak.num(vis))[:-1]])
    keep = np.ones(int(ak.sum(ak.num(vis))), dtype=bool)
    keep[ak.to_numpy(ak.flatten(isolated.idx + start))] = False  # no double counting in jets
    jets = _jets(vis[ak.unflatten(keep, ak.num(vis))], heavy, config, rng)
    met_x, met_y = _met(vis, [lep, photon, jets], config, rng)

    out: dict[str, ak.Array | np.ndarray] = {}
    for name, objects in (("lep", lep), ("jet", jets), ("photon", photon)):
        for var in ("pt", "eta", "phi", "e"):
            out[f"{name}_{var}"] = ak.values_astype(objects[var], np.float64)
    out["lep_charge"] = ak.values_astype(-np.sign(lep.id), np.int32)
    out["lep_pdgid"] = ak.values_astype(lep.id, np.int32)
    out["jet_btag"] = jets.btag
    out["met"] = np.hypot(met_x, met_y)
    out["met_phi"] = np.arctan2(met_y, met_x)
    return out
