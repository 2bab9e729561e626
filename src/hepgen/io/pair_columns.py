"""One ``uproot`` step of a pairs dataset (:mod:`hepgen.io.pairs`) → one row per gen object.

The match is resolved on flat object arrays: each gen object gets the global index of its
reconstructed object in the step's flat reco arrays (−1: none), from the match branch in either
direction, then one gather per column builds the response; no loop runs over events.
"""

from __future__ import annotations

import logging
from typing import Any

import awkward as ak
import numpy as np

from hepgen.errors import HepgenError
from hepgen.io.columns import _check_finite, _to_polar, _unpack
from hepgen.io.pairs import PAIR_COLUMNS, UNMATCHED, MatchSpec, PairSide, PairSpec
from hepgen.io.roles import NUMBERS, branch_type, describe
from hepgen.preprocessing.angles import wrap_phi

__all__ = ["check_pair_roles", "log_pair_counts", "pair_chunk"]

log = logging.getLogger(__name__)


def check_pair_roles(tree: Any, pairs: PairSpec, tree_name: str, path: str) -> None:
    """Check from the file's metadata that every branch of ``pairs`` is jagged numbers, and the
    match and ``select`` branches jagged integers.

    Raises:
        HepgenError: one line naming the file, tree, branch, the type found and the one needed.
    """
    integers = {p for p in NUMBERS if "int" in p}
    for branch, what, ints, _ in pairs.jagged_roles():
        found = branch_type(tree, branch)
        inner = found.content if isinstance(found, ak.types.ListType) else None
        ok = (
            isinstance(inner, ak.types.NumpyType)
            and found.parameter("__array__") not in {"string", "bytestring"}
            and inner.primitive in (integers if ints else NUMBERS)
        )
        if not ok:
            needs = "jagged var * int (one index per object)" if ints else "jagged var * number"
            msg = f"{path!r}, tree {tree_name!r}: branch {branch!r} is {describe(found)}, but as {what} it must be {needs}"
            raise HepgenError(msg)


def _jagged(arrays: Any, flat: dict[str, tuple[np.ndarray, np.ndarray | None]], branch: str):
    """A jagged branch as flat values and (events + 1,) offsets from 0."""
    values, offsets = flat[branch]
    if offsets is None:  # a layout other than plain jagged lists
        jagged = arrays[branch]
        offsets = np.zeros(len(jagged) + 1, dtype=np.int64)
        np.cumsum(ak.to_numpy(ak.num(jagged, axis=1)), out=offsets[1:])
        values = ak.to_numpy(ak.flatten(jagged, axis=1))
    return values, offsets


def _check_counts(
    offsets: dict[str, np.ndarray], roles: list, tree: str, path: str, start: int
) -> None:
    """Every jagged branch has, in every entry, as many values as the branch it is counted by."""
    for branch, what, _, counter in roles:
        found, needed = np.diff(offsets[branch]), np.diff(offsets[counter])
        bad = np.flatnonzero(found != needed)
        if bad.size:
            i = int(bad[0])
            msg = (
                f"{path!r}, tree {tree!r}: branch {branch!r} ({what}) holds {int(found[i])} values "
                f"in entry {start + i}, but needs one per object of {counter!r}, which holds "
                f"{int(needed[i])} ({bad.size} entries of this step differ)"
            )
            raise HepgenError(msg)


def _keep(
    side: PairSide, polar: dict[str, np.ndarray], values: dict[str, np.ndarray]
) -> np.ndarray:
    """(objects,) True for the objects passing the side's selection."""
    keep = polar["pt"] > np.float64(side.min_pt)
    if side.max_abs_eta is not None:
        keep &= np.abs(polar["eta"]) < np.float64(side.max_abs_eta)
    for branch, allowed in side.select.items():
        keep &= np.isin(np.abs(values[branch].astype(np.int64)), allowed)
    return keep


def _indices(
    index: np.ndarray,
    own: np.ndarray,
    other: np.ndarray,
    match: MatchSpec,
    other_key: str,
    tree: str,
    path: str,
    start: int,
) -> np.ndarray:
    """The match indices as global indices into the other collection's flat arrays (−1 kept).

    Arguments:
        index: (objects,) the match branch's values, per event local indices.
        own, other: (events + 1,) offsets of the collection the branch is counted by and of
            the one it points into.
    """
    index = index.astype(np.int64)
    event = np.repeat(np.arange(len(own) - 1), np.diff(own))
    available = np.diff(other)[event]
    bad = np.flatnonzero((index < -1) | (index >= available))
    if bad.size:
        i = int(bad[0])
        msg = (
            f"{path!r}, tree {tree!r}: branch {match.branch!r} ({match.points}) holds index "
            f"{int(index[i])} in entry {start + int(event[i])}, where {other_key} has "
            f"{int(available[i])} objects: an index must be -1 (no match) or 0..{int(available[i]) - 1} "
            f"({bad.size} such values in this step)"
        )
        raise HepgenError(msg)
    return np.where(index >= 0, other[event] + index, -1)


def _reco_of_gen(
    index: np.ndarray,
    gen_offsets: np.ndarray,
    reco_offsets: np.ndarray,
    reco_keep: np.ndarray,
    reco_pt: np.ndarray,
    pairs: PairSpec,
    tree: str,
    path: str,
    start: int,
) -> tuple[np.ndarray, int]:
    """(gen objects,) global index of each gen object's selected reco match, −1 where none, and
    the number of selected reco objects that lost their gen object to another of higher pT
    (``reco_to_gen``; 0 for ``gen_to_reco``, counted on the selected gen objects by the caller)."""
    n_gen = int(gen_offsets[-1])
    if pairs.match.points == "gen_to_reco":
        reco = _indices(
            index, gen_offsets, reco_offsets, pairs.match, "pairs.reco", tree, path, start
        )
        found = reco >= 0
        found[found] = reco_keep[reco[found]]
        return np.where(found, reco, -1), 0
    gen = _indices(index, reco_offsets, gen_offsets, pairs.match, "pairs.gen", tree, path, start)
    valid = np.flatnonzero((gen >= 0) & reco_keep)
    g = gen[valid]
    order = np.lexsort((-reco_pt[valid].astype(np.float64), g))  # by gen object, then pT down
    g, r = g[order], valid[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    reco = np.full(n_gen, -1, dtype=np.int64)
    reco[g[first]] = r[first]
    return reco, int((~first).sum())


def pair_chunk(
    arrays: Any, spec: Any, branches: list[str], path: str, start: int
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Columns of one ``uproot`` step of a pairs dataset and its counts.

    Arguments:
        arrays: the step's branches (events,) as read by ``uproot``.
        spec: the :class:`hepgen.io.spec.DatasetSpec` (``spec.pairs`` set); ``branches`` its
            required branches.
        path, start: the file and the step's first entry, for error messages.

    Returns:
        float64 (selected gen objects,) columns in the order of :data:`PAIR_COLUMNS`, then
        scalars and ``weight``; and ``{"gen objects", "unmatched", "ambiguous"}`` counts.

    Raises:
        HepgenError: NaN/inf values, a jagged branch whose per-entry length differs from its
            collection's, match indices out of range.
    """
    pairs: PairSpec = spec.pairs
    flat = {b: _unpack(arrays[b]) for b in branches}
    _check_finite(flat, len(arrays), path, start)
    jagged = {b: _jagged(arrays, flat, b) for b in pairs.branches()}
    _check_counts(
        {b: o for b, (_, o) in jagged.items()}, pairs.jagged_roles(), spec.tree, path, start
    )
    values = {b: v for b, (v, _) in jagged.items()}
    polar, keep = {}, {}
    for side in (pairs.gen, pairs.reco):
        fields = {f: values[b] for f, b in side.branches.items()}
        polar[side.side] = _to_polar(fields, side.kinematics)
        keep[side.side] = _keep(side, polar[side.side], values)
    gen_offsets, reco_offsets = jagged[pairs.gen.counter][1], jagged[pairs.reco.counter][1]
    gen, reco = polar["gen"], polar["reco"]
    reco_of_gen, ambiguous = _reco_of_gen(
        values[pairs.match.branch], gen_offsets, reco_offsets, keep["reco"], reco["pt"],
        pairs, spec.tree, path, start,
    )  # fmt: skip
    rows = np.flatnonzero(keep["gen"])
    match = reco_of_gen[rows]
    found = match >= 0
    r = match[found]
    if pairs.match.points == "gen_to_reco":  # reco objects matched by several selected gen objects
        _, shared = np.unique(r, return_counts=True)
        ambiguous = int((shared > 1).sum())
    gen_pt, gen_eta, gen_phi = (
        np.asarray(gen[f], dtype=np.float64)[rows] for f in ("pt", "eta", "phi")
    )
    response, deta, dphi = (np.full(len(rows), UNMATCHED[c]) for c in PAIR_COLUMNS[4:])
    response[found] = np.asarray(reco["pt"], dtype=np.float64)[r] / gen_pt[found]
    deta[found] = np.asarray(reco["eta"], dtype=np.float64)[r] - gen_eta[found]
    dphi[found] = wrap_phi(np.asarray(reco["phi"], dtype=np.float64)[r] - gen_phi[found])
    columns = dict(
        zip(
            PAIR_COLUMNS,
            (gen_pt, gen_eta, gen_phi, found.astype(np.float64), response, deta, dphi),
            strict=True,
        )
    )
    running = np.zeros(len(keep["gen"]) + 1, dtype=np.int64)
    np.cumsum(keep["gen"], out=running[1:])
    per_event = np.diff(running[gen_offsets])
    for name in spec.scalars:
        columns[name] = np.repeat(ak.to_numpy(arrays[name]).astype(np.float64), per_event)
    if spec.weight:
        columns["weight"] = np.repeat(
            ak.to_numpy(arrays[spec.weight]).astype(np.float64), per_event
        )
    counts = {"gen objects": len(rows), "unmatched": int((~found).sum()), "ambiguous": ambiguous}
    return columns, counts


def log_pair_counts(pairs: PairSpec, counts: dict[str, int], entries: int) -> None:
    """Log the objects, unmatched objects and ambiguous matches of a whole ingestion."""
    total, unmatched = counts.get("gen objects", 0), counts.get("unmatched", 0)
    log.info(
        "pairs: %d gen objects (%s) in %d events; %d (%.2f%%) have no selected reco match and "
        "hold reco_found = 0, reco_response = 1, reco_deta = reco_dphi = 0",
        total, pairs.gen.selection(), entries, unmatched, 100.0 * unmatched / max(total, 1),
    )  # fmt: skip
    if counts.get("ambiguous"):
        how = (
            "reco objects are the match of more than one gen object"
            if pairs.match.points == "gen_to_reco"
            else "reco objects point to a gen object already matched to one of higher pT and are not used"
        )
        log.warning("pairs: %d %s (%s)", counts["ambiguous"], how, pairs.match.branch)
