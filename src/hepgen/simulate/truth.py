"""Generator-level objects the detector saw, and their ΔR matching to reconstructed ones."""

from __future__ import annotations

import awkward as ak
import numpy as np

from hepgen.simulate.detector import DetectorConfig

__all__ = ["PROMPT_STATUS_MAX", "delta_r2", "gen_leptons_photons", "match_by_dr", "sort_by_pt"]

# Pythia8 status codes 81-89 are hadronisation products and 91-99 decay products (of
# hadrons and τ); a final-state particle with a lower |status| comes from the hard process,
# the showers or the beam remnants: it is prompt.
PROMPT_STATUS_MAX = 80


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


def sort_by_pt(objects: ak.Array) -> ak.Array:
    """The objects of each event in decreasing pT (ties keep their order)."""
    return objects[ak.argsort(objects.pt, axis=1, ascending=False, stable=True)]


def match_by_dr(gen: ak.Array, reco: ak.Array, dr: float) -> ak.Array:
    """Index of each generator-level object's reconstructed match, or −1.

    Pairs closer than ``dr`` are taken closest first (global greedy in ΔR): a pair is kept
    when neither its gen nor its reco object is taken yet, so each reco object matches at
    most one gen object and every gen object gets its closest free reco object.

    Arguments:
        gen: records with ``eta, phi``, shape (events, var).
        reco: records with ``eta, phi``, shape (events, var).
        dr: the matching cone ΔR.

    Returns:
        Integers, shape (events, var) like ``gen``: the position of the match in its event's
        ``reco`` list, −1 where none is within ``dr``.
    """
    n_gen, n_reco = ak.to_numpy(ak.num(gen)), ak.to_numpy(ak.num(reco))
    d2 = delta_r2(gen, reco)
    flat_d2 = ak.to_numpy(ak.flatten(d2, axis=None))
    reco_local = ak.to_numpy(ak.flatten(ak.local_index(d2, axis=2), axis=None))
    gen_local = ak.to_numpy(
        ak.flatten(ak.broadcast_arrays(ak.local_index(d2, axis=1), d2)[0], axis=None)
    )
    event = np.repeat(np.arange(len(n_gen)), n_gen * n_reco)
    gen_start = np.concatenate([[0], np.cumsum(n_gen)[:-1]]).astype(np.int64)
    reco_start = np.concatenate([[0], np.cumsum(n_reco)[:-1]]).astype(np.int64)
    near = flat_d2 < dr**2
    order = np.argsort(flat_d2[near], kind="stable")
    gen_id = (gen_start[event] + gen_local)[near][order]
    reco_id = (reco_start[event] + reco_local)[near][order]
    reco_pos = reco_local[near][order]
    result = np.full(int(n_gen.sum()), -1, dtype=np.int32)
    used = np.zeros(int(n_reco.sum()), dtype=bool)
    for g, r, pos in zip(gen_id.tolist(), reco_id.tolist(), reco_pos.tolist(), strict=True):
        if result[g] < 0 and not used[r]:
            result[g] = pos
            used[r] = True
    return ak.unflatten(result, n_gen)


def gen_leptons_photons(vis: ak.Array, config: DetectorConfig) -> tuple[ak.Array, ak.Array]:
    """Prompt e, μ and γ before smearing, for pairing with the reconstructed ones.

    No isolation, no ``eta_max`` and no reconstruction threshold: the efficiency of those
    selections is what the pairing shows.

    Arguments:
        vis: visible final-state particles within ``calo_eta_max`` with ``pt, eta, phi, e,
            id`` and ``prompt`` (bool), shape (events, var).
        config: the detector config (``gen_lep_pt_min``, ``gen_photon_pt_min``).

    Returns:
        Leptons (e, μ; pT > ``gen_lep_pt_min``) and photons (pT > ``gen_photon_pt_min``),
        pT-ordered records, shape (events, var) each.
    """
    aid = abs(vis.id)
    lep = vis[vis.prompt & ((aid == 11) | (aid == 13)) & (vis.pt > config.gen_lep_pt_min)]
    photon = vis[vis.prompt & (aid == 22) & (vis.pt > config.gen_photon_pt_min)]
    return sort_by_pt(lep), sort_by_pt(photon)
