"""Object reconstruction from final-state particles: isolated leptons and photons, jets, MET.

Also returns the generator-level objects (``gen_*``) matched to the reconstructed ones.
"""

from __future__ import annotations

import awkward as ak
import fastjet
import fastjet._swig
import numpy as np

from hepgen.simulate.detector import (
    DetectorConfig,
    acceptance_margin,
    btag,
    ecal_angle_resolution,
    ecal_resolution,
    jet_angle_resolution,
    jet_resolution,
    muon_resolution,
    smear_direction,
    smear_factor,
    track_angle_resolution,
)
from hepgen.simulate.truth import delta_r2, gen_leptons_photons, match_by_dr, sort_by_pt

__all__ = ["delta_r2", "flavour_labels", "reconstruct"]

# FastJet (arXiv:1111.6097) prints its banner on stdout at the first clustering; send it nowhere.
fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)


def _polar(px: ak.Array, py: ak.Array, pz: ak.Array) -> tuple[ak.Array, ak.Array, ak.Array]:
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / np.maximum(pt, 1e-9))
    return pt, eta, np.arctan2(py, px)


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


def _smear(
    objects: ak.Array, sigma: np.ndarray, sigma_angle: np.ndarray, rng: np.random.Generator
) -> ak.Array:
    """Smear pT and E by the factor 1 + σ·N(0, 1), then η and φ by ``sigma_angle``.

    The scaled four-momentum keeps its mass scaled by the same factor (as before the angles
    move), and E is recomputed from the smeared pT and η at that mass, so E² − |p|² = m².
    """
    counts = ak.num(objects)
    flat = ak.flatten(objects)
    pt, eta, phi, e = (ak.to_numpy(flat[k]) for k in ("pt", "eta", "phi", "e"))
    k = smear_factor(sigma, rng)
    mass = np.sqrt(np.maximum(e**2 - (pt * np.cosh(eta)) ** 2, 0.0))
    eta, phi = smear_direction(eta, phi, sigma_angle, rng)
    pt = pt * k
    e = np.hypot(pt * np.cosh(eta), k * mass)
    for name, value in (("pt", pt), ("eta", eta), ("phi", phi), ("e", e)):
        objects = ak.with_field(objects, ak.unflatten(value, counts), name)
    return objects


def _isolated(vis: ak.Array, config: DetectorConfig) -> ak.Array:
    aid = abs(vis.id)
    is_lep = (aid == 11) | (aid == 13)
    loose = ak.where(is_lep, 0.5 * config.lep_pt_min, 0.5 * config.photon_pt_min)
    # Acceptance acts on the smeared η: candidates just outside eta_max may be smeared in.
    window = config.eta_max + acceptance_margin(config)
    cands = vis[(is_lep | (aid == 22)) & (abs(vis.eta) < window) & (vis.pt > loose)]
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
    # True-pT floor: smearing from below it is negligible, and gen jets need nothing lower.
    min_pt = min(0.25 * config.jet_pt_min, config.gen_jet_pt_min)
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
    pt, e = ak.to_numpy(flat.pt), ak.to_numpy(flat.e)
    sigma = np.where(
        ak.to_numpy(abs(flat.id)) == 13,
        muon_resolution(pt, config),  # muons: tracker pT measurement
        ecal_resolution(e, config),  # electrons: calorimeter energy
    )
    lep = _smear(lep, sigma, track_angle_resolution(pt, config), rng)  # track direction
    photon = isolated[abs(isolated.id) == 22]
    e = ak.to_numpy(ak.flatten(photon.e))
    photon = _smear(photon, ecal_resolution(e, config), ecal_angle_resolution(e, config), rng)
    lep = sort_by_pt(lep[(lep.pt > config.lep_pt_min) & (abs(lep.eta) < config.eta_max)])
    photon = photon[(photon.pt > config.photon_pt_min) & (abs(photon.eta) < config.eta_max)]
    return lep, sort_by_pt(photon)


def _jets(
    inputs: ak.Array, heavy: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> tuple[ak.Array, ak.Array]:
    """Reconstructed (smeared, b-tagged) jets and the generator-level jets before smearing."""
    jets = _cluster(inputs, config)
    gen = sort_by_pt(jets[jets.pt > config.gen_jet_pt_min])
    pt = ak.to_numpy(ak.flatten(jets.pt))
    jets = _smear(jets, jet_resolution(pt, config), jet_angle_resolution(pt, config), rng)
    jets = sort_by_pt(jets[(jets.pt > config.jet_pt_min) & (abs(jets.eta) < config.eta_max)])
    hpt, heta, hphi = _polar(heavy.px, heavy.py, heavy.pz)
    hadrons = ak.zip({"eta": heta, "phi": hphi, "flavour": heavy.flavour})
    labels = flavour_labels(jets, hadrons[hpt > config.tag_hadron_pt_min], dr=config.tag_dr)
    tags = btag(ak.to_numpy(ak.flatten(labels)), config, rng)
    return ak.with_field(jets, ak.unflatten(tags, ak.num(jets)), "btag"), gen


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
    Directions are smeared too; acceptance and thresholds apply to the smeared values.

    The generator-level collections (``gen_lep_*``, ``gen_photon_*``, ``gen_jet_*``) are
    the prompt e, μ, γ and the jets clustered from the same inputs as the reconstructed
    jets before smearing (see ``DetectorConfig``), each with ``*_reco``: the index of its
    ΔR match in the reconstructed collection, −1 when it was not reconstructed.

    Arguments:
        final: final-state particles with ``px, py, pz, e`` [GeV], ``id`` (PDG) and,
            optionally, ``prompt`` (bool; without it every particle counts as prompt),
            shape (events, var); neutrinos are dropped here.
        heavy: heavy-flavour hadrons with ``px, py, pz`` [GeV] and ``flavour`` (5 or 4),
            shape (events, var).
        config: the detector config.
        rng: the detector's random generator (the only source of randomness).

    Returns:
        Branches: jagged ``lep_*, jet_*, photon_*``, ``gen_lep_*, gen_jet_*, gen_photon_*``
        (pT-ordered) and flat ``met, met_phi``.
    """
    pt, eta, phi = _polar(final.px, final.py, final.pz)
    fields = {k: final[k] for k in ("px", "py", "pz", "e", "id")}
    prompt = final.prompt if "prompt" in final.fields else ak.ones_like(final.id, dtype=bool)
    particles = ak.zip({**fields, "pt": pt, "eta": eta, "phi": phi, "prompt": prompt})
    aid = abs(final.id)
    visible = ~((aid == 12) | (aid == 14) | (aid == 16)) & (abs(eta) < config.calo_eta_max)
    vis = particles[visible]
    vis = ak.with_field(vis, ak.local_index(vis), "idx")

    isolated = _isolated(vis, config)
    lep, photon = _leptons_photons(isolated, config, rng)
    start = np.concatenate([[0], np.cumsum(ak.num(vis))[:-1]])
    keep = np.ones(int(ak.sum(ak.num(vis))), dtype=bool)
    keep[ak.to_numpy(ak.flatten(isolated.idx + start))] = False  # no double counting in jets
    jets, gen_jet = _jets(vis[ak.unflatten(keep, ak.num(vis))], heavy, config, rng)
    met_x, met_y = _met(vis, [lep, photon, jets], config, rng)
    gen_lep, gen_photon = gen_leptons_photons(vis, config)

    out: dict[str, ak.Array | np.ndarray] = {}
    objects = {
        "lep": lep,
        "jet": jets,
        "photon": photon,
        "gen_lep": gen_lep,
        "gen_jet": gen_jet,
        "gen_photon": gen_photon,
    }
    for name, collection in objects.items():
        for var in ("pt", "eta", "phi", "e"):
            out[f"{name}_{var}"] = ak.values_astype(collection[var], np.float64)
    for name in ("lep", "gen_lep"):
        out[f"{name}_charge"] = ak.values_astype(-np.sign(objects[name].id), np.int32)
        out[f"{name}_pdgid"] = ak.values_astype(objects[name].id, np.int32)
    for name, cone in (
        ("lep", config.lep_match_dr),
        ("jet", config.jet_match_dr),
        ("photon", config.photon_match_dr),
    ):
        out[f"gen_{name}_reco"] = match_by_dr(objects[f"gen_{name}"], objects[name], cone)
    out["jet_btag"] = jets.btag
    out["met"] = np.hypot(met_x, met_y)
    out["met_phi"] = np.arctan2(met_y, met_x)
    return out
