"""Post-processing of generated events: count the unphysical ones, then repair what can be repaired.

The fraction of generated events that were invalid before repair is the "physicality"
figure of merit of Otten et al. (arXiv:1901.00875).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hepgen.preprocessing.angles import wrap_phi

__all__ = ["ObjectLayout", "find_objects", "repair"]

_COLUMN = re.compile(r"^(?P<name>[A-Za-z_]+?)(?P<slot>\d+)_(?P<field>pt|eta|phi|e)$")
_FIELDS = ("pt", "eta", "phi", "e")

#: Reasons that say an event lies outside the dataset's selection, not that it is unphysical.
SELECTION_REASONS = ("below_threshold", "beyond_eta", "too_few_objects")

#: E may fall below |p| by this fraction before an event counts as invalid: far below any
#: detector's energy resolution, it keeps (nearly) massless leptons whose generated E and |p|
#: agree to 0.1 % from being counted as unphysical; the repair raises E to |p| regardless.
MASS_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ObjectLayout:
    """One zero-padded collection of the event table, with what training told about it.

    Arguments:
        name: collection name (``mu`` for columns ``mu1_pt`` …).
        slots: objects per event.
        min_pt: the smallest pT of a present object in training [GeV].
        min_count: the fewest present objects in a training event.
        max_abs_eta: the largest |η| of a present object in training; ``None`` (a transform
            written before it was measured) checks no |η|.
    """

    name: str
    slots: int
    min_pt: float
    min_count: int
    max_abs_eta: float | None = None

    def columns(self, field: str) -> list[str]:
        return [f"{self.name}{k}_{field}" for k in range(1, self.slots + 1)]


def find_objects(table: pd.DataFrame) -> list[ObjectLayout]:
    """Detect complete ``<name><k>_{pt,eta,phi,e}`` collections and measure them on ``table``."""
    slots: dict[str, set[int]] = {}
    for column in table.columns:
        match = _COLUMN.match(column)
        if match:
            slots.setdefault(match["name"], set()).add(int(match["slot"]))
    layouts = []
    for name, found in sorted(slots.items()):
        n = max(found)
        layout = ObjectLayout(name, n, 0.0, 0)
        if set(found) != set(range(1, n + 1)) or any(
            c not in table.columns for f in _FIELDS for c in layout.columns(f)
        ):
            continue
        pt = table[layout.columns("pt")].to_numpy()
        present = pt > 0
        min_pt = float(pt[present].min()) if present.any() else 0.0
        eta = np.abs(table[layout.columns("eta")].to_numpy())
        max_abs_eta = float(eta[present].max()) if present.any() else 0.0
        layouts.append(ObjectLayout(name, n, min_pt, int(present.sum(axis=1).min()), max_abs_eta))
    return layouts


def repair(table: pd.DataFrame, objects: list[ObjectLayout]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check and repair generated events in physical units.

    Each event is invalid before repair when any of these holds (the counts per reason are
    returned): a negative pT, energy or MET (``negative``); an object with E below |p| by
    more than :data:`MASS_TOLERANCE` (``negative_mass``); present objects out of pT order or after an absent one
    (``pt_order``); an angle outside (-π, π] (``phi_range``); a present object below the
    training's smallest pT (``below_threshold``); a present object beyond the training's
    largest |η| (``beyond_eta``); fewer present objects than any training
    event had (``too_few_objects``); a multiplicity column that disagrees with the objects
    (``multiplicity``).
    Repairs: objects with pT below half the training minimum become absent, with all four
    components exactly 0, except in the slots every training event filled (the first
    ``min_count``), which stay present (and count as ``below_threshold``); objects are re-sorted by pT; E is raised to |p| (mass ≥ 0); angles
    are wrapped; MET below 0 is reflected (MET → −MET, φ → φ + π); multiplicities are set to
    the number of present objects where that is below the padding size.
    ``below_threshold``, ``beyond_eta`` and ``too_few_objects`` cannot be repaired and are
    only counted (the dataset's selection, applied after the repair, drops such events).

    Arguments:
        table: generated events, n rows.
        objects: the collections, from :func:`find_objects` on the training split.

    Returns:
        The repaired table and ``{"events", "invalid", "invalid_fraction", "unphysical",
        "reasons"}``; ``unphysical`` counts the events invalid for a reason other than the
        selection ones (:data:`SELECTION_REASONS`: a physical object outside the training
        selection), e.g. E < |p|.
    """
    out = table.copy()
    n = len(out)
    reasons: dict[str, np.ndarray] = {}

    def flag(reason: str, bad: np.ndarray) -> None:
        reasons[reason] = reasons.get(reason, np.zeros(n, dtype=bool)) | bad

    for layout in objects:
        _repair_objects(out, layout, flag)
    if "met" in out.columns:
        met = out["met"].to_numpy(np.float64)
        flag("negative", met < 0)
        if "met_phi" in out.columns:
            out["met_phi"] = np.where(met < 0, out["met_phi"] + np.pi, out["met_phi"])
        out["met"] = np.abs(met)
    for column in [c for c in out.columns if c.endswith("_phi")]:
        phi = out[column].to_numpy(np.float64)
        flag("phi_range", (phi <= -np.pi) | (phi > np.pi))
        out[column] = np.where(phi == 0.0, 0.0, wrap_phi(phi))
    invalid = np.zeros(n, dtype=bool)
    unphysical = np.zeros(n, dtype=bool)
    for reason, bad in reasons.items():
        invalid |= bad
        if reason not in SELECTION_REASONS:
            unphysical |= bad
    stats = {
        "events": n,
        "invalid": int(invalid.sum()),
        "invalid_fraction": float(invalid.mean()) if n else 0.0,
        "unphysical": int(unphysical.sum()),
        "reasons": {reason: int(bad.sum()) for reason, bad in sorted(reasons.items())},
    }
    return out, stats


def _repair_objects(out: pd.DataFrame, layout: ObjectLayout, flag) -> None:
    fields = {f: out[layout.columns(f)].to_numpy(np.float64) for f in _FIELDS}
    pt, e = fields["pt"], fields["e"]
    flag("negative", ((pt < 0) | (e < 0)).any(axis=1))
    present = pt >= 0.5 * layout.min_pt if layout.min_pt > 0 else pt > 0
    # every training event held the first min_count objects: those slots are never emptied
    present[:, : layout.min_count] = pt[:, : layout.min_count] > 0
    p = np.abs(pt) * np.cosh(fields["eta"])
    flag("negative_mass", (present & (e < p * (1 - MASS_TOLERANCE))).any(axis=1))
    flag("below_threshold", (present & (pt < layout.min_pt)).any(axis=1))
    if layout.max_abs_eta is not None:
        beyond = present & (np.abs(fields["eta"]) > layout.max_abs_eta)
        flag("beyond_eta", beyond.any(axis=1))
    ordered_pt = np.where(present, pt, -1.0)  # absent objects sort last
    flag("pt_order", (np.diff(ordered_pt, axis=1) > 0).any(axis=1))
    count = present.sum(axis=1)
    flag("too_few_objects", count < layout.min_count)
    for f in _FIELDS:
        fields[f] = np.where(present, fields[f], 0.0)
    fields["e"] = np.where(present, np.maximum(fields["e"], p), 0.0)
    order = np.argsort(-np.where(present, fields["pt"], -1.0), axis=1, kind="stable")
    for f in _FIELDS:
        out[layout.columns(f)] = np.take_along_axis(fields[f], order, axis=1)
    multiplicity = f"n_{layout.name}"
    if multiplicity in out.columns:
        n_obj = np.rint(out[multiplicity].to_numpy(np.float64))
        fixed = np.where(count < layout.slots, count, np.maximum(n_obj, count))
        flag("multiplicity", n_obj != fixed)
        out[multiplicity] = fixed.astype(np.float64)
