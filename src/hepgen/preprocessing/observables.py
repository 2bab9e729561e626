"""Physics observables computed from the four-vectors of an event table (m_ll, H_T, m_T, ...).

The generator never sees these directly: they test the correlations between its features the
way an analysis would use them.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hepgen.conventions import BJETS, JETS, LEPTONS, PHOTONS

if TYPE_CHECKING:  # imported where four-vectors are built: vector loads sympy (about 1 s)
    import vector

__all__ = [
    "BJETS",
    "JETS",
    "LEPTONS",
    "MAX_JETS",
    "MIN_PT",
    "M_TOP",
    "M_W",
    "collections",
    "derived_columns",
    "derived_table",
    "lepton_pair",
    "observables",
]

#: W and top masses [GeV] (PDG 2024) used to choose the hadronic W and top candidates.
M_W = 80.37
M_TOP = 172.57
#: Objects with pT at or below this [GeV] count as absent (zero padding, or near-zero
#: generated padding).
MIN_PT = 1.0
#: Leading jets searched for the W and top candidates.
MAX_JETS = 6

_COLUMN = re.compile(r"^([a-z]+?)(\d+)_(pt|eta|phi|e)$")
_FIELDS = ("pt", "eta", "phi", "e")


def collections(columns: Iterable[str]) -> dict[str, int]:
    """Object collections of an event table and their number of slots.

    Arguments:
        columns: table columns such as ``mu1_pt, mu1_eta, mu1_phi, mu1_e, mu2_pt, ...``.

    Returns:
        ``{prefix: k}`` where slots 1..k all have the four columns ``_pt, _eta, _phi, _e``.
    """
    names = set(columns)
    found: dict[str, int] = {}
    for name in sorted(names):
        match = _COLUMN.match(name)
        if match and match.group(2) == "1":
            prefix = match.group(1)
            k = 0
            while all(f"{prefix}{k + 1}_{f}" in names for f in _FIELDS):
                k += 1
            if k:
                found[prefix] = k
    return found


def lepton_pair(prefixes: Iterable[str]) -> str:
    """Pair symbol in observable names: ``"mumu"`` for muons only, ``"ll"`` for mixed flavours."""
    flavours = {LEPTONS[p] for p in prefixes if p in LEPTONS}
    return f"{flavours.pop()}" * 2 if len(flavours) == 1 else "ll"


def observables(table: pd.DataFrame, *, min_pt: float = MIN_PT) -> pd.DataFrame:
    """Derived observables of every event, from whichever objects the table holds.

    Leptons (collections in :data:`LEPTONS`, merged and pT-ordered): the mass ``m_<pair>``,
    transverse momentum ``pt_<pair>``, rapidity ``y_<pair>`` and separation ``dr_<pair>`` of
    the two leading leptons (``<pair>`` is e.g. ``mumu``, see :func:`lepton_pair`); with
    ``met``/``met_phi`` the transverse mass ``mt`` of the leading lepton and the missing
    momentum, ``sqrt(2 pT E_T^miss (1 - cos dphi))``.
    Photons (collections in :data:`PHOTONS`) with two leptons: the mass ``m_<pair>a``,
    transverse momentum ``pt_<pair>a`` and rapidity ``y_<pair>a`` of the two leading leptons
    and the leading photon (the Z gamma system), and ``dr_<pair>a``, the separation of the
    photon from the dilepton.
    Jets (collections in :data:`JETS`, merged and pT-ordered): ``ht`` (scalar sum of jet pT),
    ``m_j1`` (the leading jet's mass), ``n_jets`` (unless the table has ``n_jet``), ``dr_jj`` of the two leading jets, ``dr_lj`` of
    the leading lepton and jet, and hadronic W and top candidates among the :data:`MAX_JETS`
    leading jets: ``m_jj_w`` is the mass of the pair of jets that are not b-tagged (``bjet``
    collection or a ``_btag`` column > 0.5) closest to :data:`M_W`; ``m_jjb_top`` adds the further
    jet, b-tagged if the event has one, that brings the mass closest to :data:`M_TOP`.
    Masses of space-like sums are negative (``-sqrt(-m^2)``, the ROOT convention), so
    unphysical generated four-vectors show up instead of vanishing. An observable is NaN for
    an event lacking its objects (or, for a rapidity, with ``E <= |p_z|``).

    Arguments:
        table: event table in GeV and rad with columns ``<obj><k>_{pt,eta,phi,e}``.
        min_pt: objects with pT at or below it [GeV] are absent.

    Returns:
        One row per event (index 0..n-1), one float64 column per observable; no columns for
        a table without leptons or jets.
    """
    found = collections(table.columns)
    leptons = [p for p in found if p in LEPTONS]
    jets = [p for p in found if p in JETS]
    photons = [p for p in found if p in PHOTONS]
    out: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        lep = _merged(table, leptons, found, min_pt) if leptons else None
        jet = _merged(table, jets, found, min_pt) if jets else None
        if lep is not None:
            out.update(_lepton_observables(table, lep, lepton_pair(leptons)))
        if lep is not None and photons and lep["pt"].shape[1] >= 2:
            photon = _merged(table, photons, found, min_pt)
            out.update(_photon_observables(lep, photon, lepton_pair(leptons)))
        if jet is not None:
            out.update(_jet_observables(table, jet, lep))
    return pd.DataFrame(out, index=pd.RangeIndex(len(table)), dtype=np.float64)


def _merged(
    table: pd.DataFrame, prefixes: list[str], found: dict[str, int], min_pt: float
) -> dict[str, np.ndarray]:
    """Slots of several collections as (n, k) arrays, pT-ordered per event, with presence and b-tag."""
    fields: dict[str, list[np.ndarray]] = {f: [] for f in (*_FIELDS, "b")}
    for prefix in prefixes:
        for k in range(1, found[prefix] + 1):
            for f in _FIELDS:
                fields[f].append(table[f"{prefix}{k}_{f}"].to_numpy(np.float64))
            btag = f"{prefix}{k}_btag"
            tagged = table[btag].to_numpy() > 0.5 if btag in table else np.zeros(len(table), bool)
            fields["b"].append(tagged | (prefix in BJETS))
    arrays = {f: np.column_stack(v) for f, v in fields.items()}
    present = arrays["pt"] > min_pt
    order = np.argsort(np.where(present, -arrays["pt"], np.inf), axis=1, kind="stable")
    merged = {f: np.take_along_axis(v, order, axis=1) for f, v in arrays.items()}
    merged["present"] = np.take_along_axis(present, order, axis=1)
    return merged


def _vec(objects: dict[str, np.ndarray], i: int) -> vector.MomentumNumpy4D:
    """Four-vector of slot ``i`` of every event."""
    import vector

    return vector.array({f: objects[f][:, i] for f in _FIELDS})


def _lepton_observables(
    table: pd.DataFrame, lep: dict[str, np.ndarray], pair: str
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if lep["pt"].shape[1] >= 2:
        both = lep["present"][:, 0] & lep["present"][:, 1]
        l1, l2 = _vec(lep, 0), _vec(lep, 1)
        total = l1 + l2
        out[f"m_{pair}"] = np.where(both, total.mass, np.nan)
        out[f"pt_{pair}"] = np.where(both, total.pt, np.nan)
        out[f"y_{pair}"] = np.where(both, total.rapidity, np.nan)
        out[f"dr_{pair}"] = np.where(both, l1.deltaR(l2), np.nan)
    if {"met", "met_phi"} <= set(table.columns):
        pt, phi = lep["pt"][:, 0], lep["phi"][:, 0]
        met, met_phi = table["met"].to_numpy(np.float64), table["met_phi"].to_numpy(np.float64)
        mt2 = 2.0 * pt * met * (1.0 - np.cos(phi - met_phi))
        out["mt"] = np.where(lep["present"][:, 0], np.sqrt(np.clip(mt2, 0.0, None)), np.nan)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _photon_observables(
    lep: dict[str, np.ndarray], photon: dict[str, np.ndarray], pair: str
) -> dict[str, np.ndarray]:
    both = lep["present"][:, 0] & lep["present"][:, 1] & photon["present"][:, 0]
    dilepton = _vec(lep, 0) + _vec(lep, 1)
    gamma = _vec(photon, 0)
    total = dilepton + gamma
    name = f"{pair}a"
    return {
        f"m_{name}": np.where(both, total.mass, np.nan),
        f"pt_{name}": np.where(both, total.pt, np.nan),
        f"y_{name}": np.where(both, total.rapidity, np.nan),
        f"dr_{name}": np.where(both, dilepton.deltaR(gamma), np.nan),
    }


def _jet_observables(
    table: pd.DataFrame, jet: dict[str, np.ndarray], lep: dict[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    present = jet["present"]
    out: dict[str, np.ndarray] = {"ht": np.where(present, jet["pt"], 0.0).sum(axis=1)}
    out["m_j1"] = np.where(present[:, 0], _vec(jet, 0).mass, np.nan)
    if "n_jet" not in table.columns:
        out["n_jets"] = present.sum(axis=1).astype(np.float64)
    k = min(present.shape[1], MAX_JETS)
    if k >= 2:
        both = present[:, 0] & present[:, 1]
        out["dr_jj"] = np.where(both, _vec(jet, 0).deltaR(_vec(jet, 1)), np.nan)
        out.update(_hadronic_candidates(jet, k))
    if lep is not None:
        both = lep["present"][:, 0] & present[:, 0]
        out["dr_lj"] = np.where(both, _vec(lep, 0).deltaR(_vec(jet, 0)), np.nan)
    return {name: np.asarray(v, dtype=np.float64) for name, v in out.items()}


def _hadronic_candidates(jet: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """``m_jj_w`` and (with >= 3 jet slots) ``m_jjb_top``; see :func:`observables`."""
    vectors = [_vec(jet, i) for i in range(k)]
    present, tagged = jet["present"][:, :k], jet["b"][:, :k]
    light = present & ~tagged
    pairs = list(itertools.combinations(range(k), 2))
    masses = np.column_stack([(vectors[i] + vectors[j]).mass for i, j in pairs])
    usable = np.column_stack([light[:, i] & light[:, j] for i, j in pairs])
    best = np.argmin(np.where(usable, np.abs(masses - M_W), np.inf), axis=1)
    rows = np.arange(len(best))
    found = usable[rows, best]
    out = {"m_jj_w": np.where(found, masses[rows, best], np.nan)}
    if k < 3:
        return out
    chosen = np.array(pairs)[best]  # (n, 2) slot indices of the W candidate
    third = np.column_stack(
        [present[:, c] & (chosen[:, 0] != c) & (chosen[:, 1] != c) for c in range(k)]
    )
    prefer_b = third & tagged
    third = np.where(prefer_b.any(axis=1, keepdims=True), prefer_b, third)
    w_vector = _pick_sum(vectors, chosen)
    top = np.column_stack([(w_vector + vectors[c]).mass for c in range(k)])
    pick = np.argmin(np.where(third, np.abs(top - M_TOP), np.inf), axis=1)
    ok = found & third[rows, pick]
    out["m_jjb_top"] = np.where(ok, top[rows, pick], np.nan)
    return out


def _pick_sum(vectors: list[vector.MomentumNumpy4D], chosen: np.ndarray) -> vector.MomentumNumpy4D:
    """Per event, the sum of the two slots named in ``chosen`` (n, 2)."""
    import vector

    components = {}
    for name in ("px", "py", "pz", "E"):
        stacked = np.column_stack([getattr(v, name) for v in vectors])
        rows = np.arange(len(chosen))
        components[name] = stacked[rows, chosen[:, 0]] + stacked[rows, chosen[:, 1]]
    return vector.array(components)


def derived_columns(table: pd.DataFrame, patterns: Iterable[str]) -> list[str]:
    """Observables of :func:`observables` that a fnmatch pattern names but ``table`` lacks.

    Lets a config refer to ``m_mumu``, ``pt_mumu``, ``mt`` or ``ht`` (e.g. in tail cuts) for
    tables whose ntuples hold only the objects.

    Arguments:
        table: an event table (a few events suffice to learn which observables exist).
        patterns: fnmatch patterns on column names.

    Returns:
        The matching observable names, in the order :func:`observables` gives them.
    """
    patterns = list(patterns)
    if not patterns:
        return []
    available = observables(table.head(16)).columns
    return [
        name
        for name in available
        if name not in table.columns and any(fnmatch.fnmatchcase(name, p) for p in patterns)
    ]


def derived_table(table: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """The observables ``names`` of every event of ``table``, on its index (NaN where absent)."""
    names = list(names)
    if not names:
        return pd.DataFrame(index=table.index)
    derived = observables(table.reset_index(drop=True))[names]
    return derived.set_index(table.index)
