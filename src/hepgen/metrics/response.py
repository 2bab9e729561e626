"""Detector response of a fast simulation, binned in generator pT and |eta|: truth vs generated.

A fast detector simulation table has one row per generator-level object: its generator
kinematics (``gen_pt`` [GeV], ``gen_eta``, ``gen_phi``), whether it was reconstructed
(``reco_found``, 0 or 1) and, for a found object, its response ``reco_response`` = reco pT /
gen pT and the angular offsets ``reco_deta``, ``reco_dphi`` [rad] (1 and 0 when not found).
In each (gen pT, gen |eta|) bin this module measures, for the truth and the generated table:

- the reconstruction efficiency (weighted fraction found) with its binomial uncertainty;
- over found objects, the median of each response quantity and its resolution, the
  interquartile range divided by 1.349 (the sigma of a Gaussian with that IQR; robust against
  non-Gaussian tails, as in the jet-energy-resolution studies of CMS, arXiv:1607.03663);
  uncertainties from bootstrap resamples of the objects;
- the generated-to-truth resolution ratio;

and over the bins a chi2 of the generated vs truth efficiencies (a two-proportion test per
bin: Pearson's chi2 with the pooled binomial variance) with its p-value, and a summary: the
worst ``|ratio - 1|`` over the bins with at least ``min_objects`` truth objects and the
fraction of those bins whose ratios all lie within ``tolerance``. The same summary computed
between two disjoint random halves of the truth (``"floor"``) says what a perfect generator
would score with half as many objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from hepgen.errors import HepgenError, positive_int
from hepgen.metrics.inputs import check_events, check_finite, event_weights
from hepgen.metrics.replicas import draw_counts

__all__ = [
    "DEFAULT_ABS_ETA_EDGES",
    "IQR_TO_SIGMA",
    "MIN_FOUND",
    "ResponseColumns",
    "abs_eta_edges",
    "has_response_columns",
    "json_ready",
    "pt_edges",
    "response_metrics",
    "weighted_quantiles",
]

METRIC = "detector response"
#: IQR of a unit Gaussian, 2 * 0.6745: IQR / 1.349 estimates its sigma.
IQR_TO_SIGMA = 1.349
#: Barrel, endcap and forward |eta| regions of a general-purpose LHC detector.
DEFAULT_ABS_ETA_EDGES = (0.0, 1.5, 2.5, 5.0)
#: Found objects a sample needs in a bin for a median and a resolution.
MIN_FOUND = 10
#: The response quantities: column attribute of :class:`ResponseColumns` -> key in the record.
QUANTITIES = ("response", "deta", "dphi")


@dataclass(frozen=True)
class ResponseColumns:
    """Column names of a fast detector simulation table.

    Attributes:
        pt: generator pT [GeV].
        eta: generator pseudorapidity.
        found: 1 when the object was reconstructed, else 0.
        response: reco pT / gen pT (any value when not found).
        deta: reco eta - gen eta (optional column).
        dphi: reco phi - gen phi [rad] (optional column).
        weight: per-object weight (used where a table has it), or ``None`` to ignore weights.
    """

    pt: str = "gen_pt"
    eta: str = "gen_eta"
    found: str = "reco_found"
    response: str = "reco_response"
    deta: str = "reco_deta"
    dphi: str = "reco_dphi"
    weight: str | None = "weight"


def has_response_columns(table: pd.DataFrame, columns: ResponseColumns | None = None) -> bool:
    """Whether ``table`` is a fast-simulation table: it has the found and response columns."""
    columns = columns or ResponseColumns()
    return columns.found in table.columns and columns.response in table.columns


def json_ready(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON ``null``), NumPy
    scalars made plain, tuples made lists; dicts and lists are copied recursively."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray | None, counts: np.ndarray, levels: Sequence[float]
) -> np.ndarray:
    """Quantiles of ``values`` under ``R`` weightings at once (``inverted_cdf`` definition).

    The quantile at level ``q`` is the smallest value whose cumulative weight reaches ``q``
    of the total, as ``np.quantile(..., weights=w, method="inverted_cdf")``.

    Arguments:
        values: shape ``(n,)``.
        weights: per-value weights ``(n,)`` (non-negative), or ``None``.
        counts: draw counts ``(R, n)`` of each value in each replica (a row of ones is the
            sample itself; see :func:`hepgen.metrics.replicas.draw_counts`).
        levels: quantile levels in ``[0, 1]``, ``L`` of them.

    Returns:
        Shape ``(R, L)``; NaN for a replica of zero total weight.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    w = counts[:, order] if weights is None else counts[:, order] * weights[order]
    cumulative = np.cumsum(w, axis=1)
    total = cumulative[:, -1:]
    out = np.empty((len(counts), len(levels)))
    for j, level in enumerate(levels):
        out[:, j] = ordered[np.argmax(cumulative >= level * total, axis=1)]
    out[total[:, 0] <= 0] = np.nan
    return out


def pt_edges(pt: np.ndarray, weights: np.ndarray | None = None, *, bins: int = 6) -> np.ndarray:
    """Edges of ``bins`` gen-pT bins holding equal (weighted) shares of the truth objects.

    Arguments:
        pt: truth generator pT [GeV], shape ``(n,)``.
        weights: shape ``(n,)`` or ``None``.
        bins: number of bins.

    Returns:
        Increasing edges [GeV], at most ``bins + 1`` (repeated quantiles merged); the first is
        the smallest pT, the last the largest.
    """
    levels = np.linspace(0.0, 1.0, bins + 1)
    counts = np.ones((1, len(pt)))
    edges = weighted_quantiles(np.asarray(pt, np.float64), weights, counts, levels)[0]
    edges[0], edges[-1] = np.min(pt), np.max(pt)
    return np.unique(edges)


def abs_eta_edges(
    abs_eta: np.ndarray, edges: Sequence[float] = DEFAULT_ABS_ETA_EDGES
) -> np.ndarray:
    """The ``edges`` of |eta| that cover the truth: those below its largest |eta|, and the next
    (or that largest |eta| itself where it lies beyond every edge).

    Arguments:
        abs_eta: truth |eta|, shape ``(n,)``.
        edges: increasing candidate edges (default barrel / endcap / forward).

    Returns:
        Increasing edges; objects beyond the last one fall outside every bin.
    """
    top = float(np.max(abs_eta))
    kept = [e for e in edges if e < top]
    above = [e for e in edges if e >= top]
    return np.asarray(kept + above[:1] if above else kept + [top], dtype=np.float64)


def response_metrics(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    seed: int,
    pt_bins: Sequence[float] | int = 6,
    abs_eta_bins: Sequence[float] | None = None,
    min_objects: int = 200,
    tolerance: float = 0.10,
    bootstrap: int = 30,
    columns: ResponseColumns | None = None,
) -> dict[str, Any]:
    """Efficiency, response and resolution per (gen pT, gen |eta|) bin, truth vs generated.

    Arguments:
        truth: the test split, one row per generator-level object (see the module docstring).
        generated: the generated table, with the same columns (conditions from the truth).
        seed: seeds the bootstrap resamples and the truth halves of the floor.
        pt_bins: gen-pT edges [GeV], or a number of equal-population truth bins
            (:func:`pt_edges`).
        abs_eta_bins: gen-|eta| edges; default :func:`abs_eta_edges` of the truth.
        min_objects: truth objects a bin needs to enter the summary and the efficiency chi2.
        tolerance: largest ``|resolution ratio - 1|`` a bin may show to count as within.
        bootstrap: resamples of the objects behind the median and resolution uncertainties.
        columns: column names (:class:`ResponseColumns` defaults).

    Returns:
        A JSON-ready dict (undefined numbers are ``None``):

        - ``columns``, ``quantities`` (response quantities measured: ``response`` and those of
          ``deta``, ``dphi`` both tables have), ``pt_edges``, ``abs_eta_edges``,
          ``min_objects``, ``tolerance``, ``n_bootstrap``;
        - ``n_objects`` and ``n_outside`` (objects outside every bin): ``{"truth", "generated"}``;
        - ``bins``: one dict per bin, pT fastest: ``pt_low``, ``pt_high``, ``abs_eta_low``,
          ``abs_eta_high``, ``used`` (enters the summary), and for ``truth`` and
          ``generated``: ``objects``, ``found``, ``weight`` (sum), ``pt_mean`` [GeV],
          ``efficiency`` (``{"value", "err", "n_eff"}``, ``n_eff = (sum w)^2 / sum w^2``),
          ``median`` and ``resolution`` (``{quantity: {"value", "err"}}``);
          ``resolution_ratio``: ``{quantity: {"value", "err"}}`` (generated / truth);
        - ``efficiency_chi2``: ``{"chi2", "ndf", "p_value"}`` over the used bins;
        - ``summary`` and ``floor`` (truth half A vs half B, on the same used bins):
          ``bins_used``, ``worst_deviation`` (largest ``|ratio - 1|`` over used bins and
          quantities), ``fraction_within`` (used bins whose every ratio is within
          ``tolerance``), ``within_tolerance`` (every used bin is), ``bins_missing`` (used
          bins where the generated sample has too few found objects for a resolution the
          truth has: counted as outside),
          ``efficiency_p_value`` and ``resolution``: ``{quantity: {"worst_deviation",
          "fraction_within"}}``.
    """
    columns = columns or ResponseColumns()
    quantities = _check(truth, generated, columns)
    if min_objects < 1:
        raise HepgenError(f"{METRIC}: min_objects must be >= 1, found {min_objects}")
    if bootstrap < 2:
        raise HepgenError(f"{METRIC}: bootstrap must be >= 2 resamples, found {bootstrap}")
    samples = {
        role: _Sample.of(table, columns, quantities, role)
        for role, table in (("truth", truth), ("generated", generated))
    }
    truth_sample = samples["truth"]
    if isinstance(pt_bins, int | np.integer):
        n_bins = positive_int(int(pt_bins), f"{METRIC}: pt_bins")
        pt = pt_edges(truth_sample.pt, truth_sample.weights, bins=n_bins)
    else:
        pt = _edges(pt_bins, "pt_bins")
    eta = (
        abs_eta_edges(truth_sample.abs_eta)
        if abs_eta_bins is None
        else _edges(abs_eta_bins, "abs_eta_bins")
    )

    rng = np.random.default_rng([seed, 11])
    tables = {
        role: _bin_table(sample, pt, eta, quantities, rng, bootstrap)
        for role, sample in samples.items()
    }
    used = np.array([b["objects"] >= min_objects for b in tables["truth"]])
    bins = []
    for k, (t, g) in enumerate(zip(tables["truth"], tables["generated"], strict=True)):
        i, j = k % (len(pt) - 1), k // (len(pt) - 1)
        bins.append(
            {
                "pt_low": pt[i],
                "pt_high": pt[i + 1],
                "abs_eta_low": eta[j],
                "abs_eta_high": eta[j + 1],
                "used": bool(used[k]),
                "truth": t,
                "generated": g,
                "resolution_ratio": _ratios(t, g, quantities),
            }
        )
    summary = _summary(bins, used, quantities, tolerance)

    order = np.random.default_rng([seed, 12]).permutation(len(truth_sample.pt))
    halves = [truth_sample.rows(np.sort(part)) for part in np.array_split(order, 2)]
    half_tables = [_bin_table(h, pt, eta, quantities, rng, 0) for h in halves]  # no errors
    floor_bins = [
        {"truth": a, "generated": b, "resolution_ratio": _ratios(a, b, quantities)}
        for a, b in zip(*half_tables, strict=True)
    ]
    floor = _summary(floor_bins, used, quantities, tolerance)

    return json_ready(
        {
            "columns": asdict(columns),
            "quantities": list(quantities),
            "pt_edges": pt.tolist(),
            "abs_eta_edges": eta.tolist(),
            "min_objects": min_objects,
            "tolerance": tolerance,
            "n_bootstrap": bootstrap,
            "n_objects": {role: len(s.pt) for role, s in samples.items()},
            "n_outside": {
                role: int(np.sum(s.bin_index(pt, eta) < 0)) for role, s in samples.items()
            },
            "bins": bins,
            "efficiency_chi2": summary.pop("efficiency_chi2"),
            "summary": summary,
            "floor": {k: v for k, v in floor.items() if k != "efficiency_chi2"},
        }
    )


@dataclass(frozen=True)
class _Sample:
    """The columns of one table as arrays (n,); ``values`` holds each response quantity."""

    pt: np.ndarray
    abs_eta: np.ndarray
    found: np.ndarray
    values: dict[str, np.ndarray]
    weights: np.ndarray | None

    @classmethod
    def of(
        cls, table: pd.DataFrame, columns: ResponseColumns, quantities: Sequence[str], role: str
    ) -> _Sample:
        names = [columns.pt, columns.eta, columns.found, *(getattr(columns, q) for q in quantities)]
        try:
            numeric = table[names].astype(np.float64)
        except (TypeError, ValueError) as error:
            msg = f"{METRIC}: the {role} columns {names} are not all numeric ({error})"
            raise HepgenError(msg) from error
        check_finite(numeric, metric=METRIC, role=role)
        check_events(len(numeric), 2, metric=METRIC, role=role)
        found = numeric[columns.found].to_numpy()
        if not np.isin(found, (0.0, 1.0)).all():
            bad = np.unique(found[~np.isin(found, (0.0, 1.0))])[:5].tolist()
            msg = f"{METRIC}: the {role} column {columns.found!r} must hold 0 or 1, found {bad}"
            raise HepgenError(msg)
        weights = None
        if columns.weight is not None and columns.weight in table.columns:
            where = f"{METRIC}, column {columns.weight!r}"
            weights = event_weights(
                table[columns.weight].to_numpy(), len(table), metric=where, role=role
            )
        return cls(
            pt=numeric[columns.pt].to_numpy(),
            abs_eta=np.abs(numeric[columns.eta].to_numpy()),
            found=found.astype(bool),
            values={q: numeric[getattr(columns, q)].to_numpy() for q in quantities},
            weights=weights,
        )

    def rows(self, index: np.ndarray) -> _Sample:
        return _Sample(
            self.pt[index],
            self.abs_eta[index],
            self.found[index],
            {q: v[index] for q, v in self.values.items()},
            None if self.weights is None else self.weights[index],
        )

    def bin_index(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Flat bin index (pT fastest) of each object, -1 outside the edges (last edge included)."""
        i, j = _digitize(self.pt, pt), _digitize(self.abs_eta, eta)
        return np.where((i >= 0) & (j >= 0), j * (len(pt) - 1) + i, -1)


def _digitize(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    index = np.searchsorted(edges, x, side="right") - 1
    index[x == edges[-1]] = len(edges) - 2
    return np.where((index >= 0) & (index < len(edges) - 1), index, -1)


def _edges(edges: Sequence[float], key: str) -> np.ndarray:
    out = np.asarray(edges, dtype=np.float64)
    if out.ndim != 1 or len(out) < 2 or not np.all(np.isfinite(out)) or np.any(np.diff(out) <= 0):
        msg = f"{METRIC}: {key} must be at least two finite, increasing edges, found {list(edges)}"
        raise HepgenError(msg)
    return out


def _check(truth: pd.DataFrame, generated: pd.DataFrame, columns: ResponseColumns) -> list[str]:
    """The response quantities both tables have; raises if a required column is missing."""
    required = [columns.pt, columns.eta, columns.found, columns.response]
    for role, table in (("truth", truth), ("generated", generated)):
        missing = [name for name in required if name not in table.columns]
        if missing:
            msg = (
                f"{METRIC}: the {role} table lacks the columns {missing}; a fast-simulation "
                f"table needs {required}, it has {list(table.columns)}"
            )
            raise HepgenError(msg)
    return [
        q
        for q in QUANTITIES
        if getattr(columns, q) in truth.columns and getattr(columns, q) in generated.columns
    ]


def _bin_table(
    sample: _Sample,
    pt: np.ndarray,
    eta: np.ndarray,
    quantities: Sequence[str],
    rng: np.random.Generator,
    bootstrap: int,
) -> list[dict[str, Any]]:
    """Per-bin statistics of one sample, pT fastest (see :func:`response_metrics`)."""
    index = sample.bin_index(pt, eta)
    w = np.ones(len(index)) if sample.weights is None else sample.weights
    out = []
    for k in range((len(pt) - 1) * (len(eta) - 1)):
        inside = index == k
        wk, found = w[inside], sample.found[inside]
        total = wk.sum()
        row: dict[str, Any] = {
            "objects": int(inside.sum()),
            "found": int(found.sum()),
            "weight": float(total),
            "pt_mean": float(np.average(sample.pt[inside], weights=wk)) if total > 0 else None,
            "efficiency": _efficiency(found, wk),
            "median": {},
            "resolution": {},
        }
        hit = wk[found]
        for q in quantities:
            values = sample.values[q][inside][found]
            median, resolution = _quantile_stats(values, hit, rng, bootstrap)
            row["median"][q], row["resolution"][q] = median, resolution
        out.append(row)
    return out


def _efficiency(found: np.ndarray, w: np.ndarray) -> dict[str, float | None]:
    """Weighted fraction found and its binomial uncertainty.

    ``eff = sum_found w / sum w``; ``var = sum w^2 (found - eff)^2 / (sum w)^2``, which is
    ``eff (1 - eff) / n`` for unit weights. ``n_eff = (sum w)^2 / sum w^2`` is kept for the chi2.
    """
    total = w.sum()
    if not total > 0:
        return {"value": None, "err": None, "n_eff": 0.0}
    eff = float(w[found].sum() / total)
    err = float(np.sqrt(np.sum(w**2 * (found - eff) ** 2)) / total)
    return {"value": eff, "err": err, "n_eff": float(total**2 / np.sum(w**2))}


def _quantile_stats(
    values: np.ndarray, weights: np.ndarray, rng: np.random.Generator, bootstrap: int
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Median and IQR / 1.349 of the found objects' values, each with a bootstrap std."""
    if len(values) < MIN_FOUND or not weights.sum() > 0:
        return {"value": None, "err": None}, {"value": None, "err": None}
    indices = [rng.integers(0, len(values), len(values)) for _ in range(bootstrap)]
    q = weighted_quantiles(values, weights, draw_counts(len(values), indices), (0.25, 0.5, 0.75))
    median, sigma = q[:, 1], (q[:, 2] - q[:, 0]) / IQR_TO_SIGMA

    def err(x: np.ndarray) -> float | None:
        return float(np.std(x[1:], ddof=1)) if bootstrap >= 2 else None

    return (
        {"value": float(median[0]), "err": err(median)},
        {"value": float(sigma[0]), "err": err(sigma)},
    )


def _ratios(
    truth: dict[str, Any], generated: dict[str, Any], quantities: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """Generated / truth resolution per quantity, errors added in quadrature (relative)."""
    out = {}
    for q in quantities:
        t, g = truth["resolution"][q], generated["resolution"][q]
        if t["value"] is None or g["value"] is None or not t["value"] > 0:
            out[q] = {"value": None, "err": None}
            continue
        ratio = g["value"] / t["value"]
        err = None
        if t["err"] is not None and g["err"] is not None and g["value"] > 0:
            err = ratio * float(np.hypot(t["err"] / t["value"], g["err"] / g["value"]))
        out[q] = {"value": float(ratio), "err": err}
    return out


def _efficiency_chi2(bins: Sequence[dict[str, Any]], used: np.ndarray) -> dict[str, float | None]:
    """Pearson chi2 of the generated vs truth efficiencies over the used bins.

    Per bin, with effective counts ``n_t``, ``n_g`` and the pooled efficiency
    ``p = (n_t e_t + n_g e_g) / (n_t + n_g)``:
    ``chi2_k = (e_g - e_t)^2 / (p (1 - p) (1 / n_t + 1 / n_g))`` (the two-proportion test);
    bins where ``p`` is 0 or 1 agree exactly and carry no degree of freedom. ``ndf`` is the
    number of bins summed; the p-value is ``P(chi2_ndf > chi2)``.
    """
    chi2, ndf = 0.0, 0
    for b, use in zip(bins, used, strict=True):
        t, g = b["truth"]["efficiency"], b["generated"]["efficiency"]
        if not use or t["value"] is None or g["value"] is None:
            continue
        n_t, n_g = t["n_eff"], g["n_eff"]
        p = (n_t * t["value"] + n_g * g["value"]) / (n_t + n_g)
        variance = p * (1.0 - p) * (1.0 / n_t + 1.0 / n_g)
        if variance > 0:
            chi2 += (g["value"] - t["value"]) ** 2 / variance
            ndf += 1
    if ndf == 0:
        return {"chi2": None, "ndf": 0, "p_value": None}
    return {"chi2": chi2, "ndf": ndf, "p_value": float(scipy_stats.chi2.sf(chi2, ndf))}


def _summary(
    bins: Sequence[dict[str, Any]], used: np.ndarray, quantities: Sequence[str], tolerance: float
) -> dict[str, Any]:
    """The summary of :func:`response_metrics` over the used bins.

    A used bin where the truth has a resolution and the generated sample has none (fewer
    than :data:`MIN_FOUND` found objects) counts as outside the tolerance (``bins_missing``).
    """
    deviations = np.full((len(bins), len(quantities)), np.nan)
    missing = np.zeros((len(bins), len(quantities)), dtype=bool)
    for k, b in enumerate(bins):
        for c, q in enumerate(quantities):
            ratio = b["resolution_ratio"][q]["value"]
            if not used[k]:
                continue
            if ratio is not None:
                deviations[k, c] = abs(ratio - 1.0)
            else:
                missing[k, c] = b["truth"]["resolution"][q]["value"] is not None
    judged = used[:, None] & (np.isfinite(deviations) | missing)
    failed = missing | (np.nan_to_num(deviations, nan=0.0) > tolerance)
    rows = judged.any(axis=1)
    chi2 = _efficiency_chi2(bins, used)

    def worst(x: np.ndarray) -> float | None:
        x = x[np.isfinite(x)]
        return float(x.max()) if len(x) else None

    def within(fail: np.ndarray, judge: np.ndarray) -> float | None:
        return float(np.mean(~fail[judge])) if judge.any() else None

    return {
        "bins_used": int(rows.sum()),
        "bins_missing": int(missing.any(axis=1).sum()),
        "worst_deviation": worst(deviations.ravel()),
        "fraction_within": within(failed.any(axis=1), rows),
        "within_tolerance": bool(rows.any() and not failed[rows].any()) if rows.any() else None,
        "efficiency_p_value": chi2["p_value"],
        "efficiency_chi2": chi2,
        "resolution": {
            q: {
                "worst_deviation": worst(deviations[:, c]),
                "fraction_within": within(failed[:, c], judged[:, c]),
            }
            for c, q in enumerate(quantities)
        },
    }
