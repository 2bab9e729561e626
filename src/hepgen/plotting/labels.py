"""Axis labels with symbols and units for event-table columns (``mu1_pt`` -> p_T (mu_1) [GeV])."""

from __future__ import annotations

import re

__all__ = ["feature_label", "object_symbol"]

_QUANTITIES = {
    "pt": ("$p_T$", "GeV"),
    "eta": (r"$\eta$", None),
    "phi": (r"$\phi$", "rad"),
    "e": ("$E$", "GeV"),
    "m": ("$m$", "GeV"),
    "px": ("$p_x$", "GeV"),
    "py": ("$p_y$", "GeV"),
    "pz": ("$p_z$", "GeV"),
    "y": ("$y$", None),
    "charge": ("charge", None),
    "btag": ("b-tag", None),
}
_OBJECTS = {
    "mu": r"\mu",
    "muon": r"\mu",
    "e": "e",
    "el": "e",
    "ele": "e",
    "electron": "e",
    "lep": r"\ell",
    "l": r"\ell",
    "tau": r"\tau",
    "photon": r"\gamma",
    "gamma": r"\gamma",
    "ph": r"\gamma",
}
_MET = {
    "met": ("$E_T^{miss}$", "GeV"),
    "met_phi": (r"$\phi(E_T^{miss})$", "rad"),
    "met_px": ("$E_x^{miss}$", "GeV"),
    "met_py": ("$E_y^{miss}$", "GeV"),
    "met_para": (r"$E_{T,\parallel}^{miss}$ (along the reference)", "GeV"),
    "met_perp": (r"$E_{T,\perp}^{miss}$ (across the reference)", "GeV"),
}
_OBJECT_COLUMN = re.compile(r"^([a-z]+?)(\d+)_([a-z]+)$")
_PAIRS = {"mumu": r"\mu\mu", "ee": "ee", "tautau": r"\tau\tau", "ll": r"\ell\ell"}
_PAIRS.update({f"{pair}a": rf"{text}\gamma" for pair, text in _PAIRS.items()})
#: Quantities of a pair of objects: observables (``m_mumu``) and a two-body system's learned
#: coordinates (``ll_m``, ``ll_costheta``; :mod:`hepgen.preprocessing.representation`).
_PAIR_QUANTITIES = {
    "m": ("$m_{{{pair}}}$", "GeV"),
    "pt": ("$p_T^{{{pair}}}$", "GeV"),
    "y": ("$y_{{{pair}}}$", None),
    "dr": (r"$\Delta R_{{{pair}}}$", None),
    "phi": (r"$\phi_{{{pair}}}$", "rad"),
    "costheta": (r"$\cos\theta^*_{{{pair}}}$", None),
    "phistar": (r"$\phi^*_{{{pair}}}$", "rad"),
}
_SYSTEM_COLUMN = re.compile(rf"^([a-z][a-z0-9]*)_({'|'.join(_PAIR_QUANTITIES)})$")
_OBSERVABLES = {
    "mt": (r"$m_T(\ell_1, E_T^{miss})$", "GeV"),
    "ht": ("$H_T$", "GeV"),
    "m_j1": ("$m_{j_1}$", "GeV"),
    "n_jets": ("number of jets", None),
    "dr_jj": (r"$\Delta R(j_1, j_2)$", None),
    "dr_lj": (r"$\Delta R(\ell_1, j_1)$", None),
    "m_jj_w": ("$m_{jj}$ (W candidate)", "GeV"),
    "m_jjb_top": ("$m_{jjb}$ (top candidate)", "GeV"),
}


def object_symbol(prefix: str, index: str | None = None) -> str:
    """Symbol of a physics object, e.g. ``("mu", "1")`` -> ``$\\mu_{1}$``, ``("jet", "2")`` -> ``jet 2``.

    Arguments:
        prefix: the collection name in the event table (``mu``, ``jet``, ``photon``, ...).
        index: the object's rank in pT (1 = leading), or ``None``.

    Returns:
        A matplotlib label fragment.
    """
    symbol = _OBJECTS.get(prefix)
    if symbol is None:
        return prefix if index is None else f"{prefix} {index}"
    return f"${symbol}$" if index is None else f"${symbol}_{{{index}}}$"


def feature_label(name: str) -> str:
    """Axis label with symbol and unit for an event-table column.

    Arguments:
        name: a column such as ``mu1_pt``, ``jet2_eta``, ``met``, ``met_phi`` or ``n_mu``, an
            observable of :func:`hepgen.preprocessing.observables` (``m_mumu``, ``ht``, ...), or
            a learned coordinate of a two-body system or of MET relative to a reference
            (``ll_m``, ``ll_costheta``, ``zz_phistar``, ``met_para``).

    Returns:
        e.g. ``"$p_T$ ($\\mu_{1}$) [GeV]"``, ``"$E_T^{miss}$ [GeV]"``, ``"number of $\\mu$"``;
        unknown names are returned unchanged.
    """
    if name in _MET:
        return _with_unit(*_MET[name])
    if name in _OBSERVABLES:
        return _with_unit(*_OBSERVABLES[name])
    quantity, _, pair = name.partition("_")
    if quantity in _PAIR_QUANTITIES and pair in _PAIRS:
        text, unit = _PAIR_QUANTITIES[quantity]
        return _with_unit(text.format(pair=_PAIRS[pair]), unit)
    if name.startswith("n_") and len(name) > 2:
        prefix = name[2:]
        plural = "" if prefix in _OBJECTS or prefix.endswith("s") else "s"
        return f"number of {object_symbol(prefix)}{plural}"
    match = _OBJECT_COLUMN.match(name)
    if match and match.group(3) in _QUANTITIES:
        prefix, index, quantity = match.groups()
        symbol, unit = _QUANTITIES[quantity]
        return _with_unit(f"{symbol} ({object_symbol(prefix, index)})", unit)
    match = _SYSTEM_COLUMN.match(name)
    if match:
        system, quantity = match.groups()
        symbol = _PAIRS.get(system) or _OBJECTS.get(system) or rf"\mathrm{{{system}}}"
        text, unit = _PAIR_QUANTITIES[quantity]
        return _with_unit(text.format(pair=symbol), unit)
    return name


def _with_unit(text: str, unit: str | None) -> str:
    return text if unit is None else f"{text} [{unit}]"
