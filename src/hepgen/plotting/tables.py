"""Leaderboard as Markdown and LaTeX (booktabs) tables: value ± uncertainty beside the floor."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hepgen.plotting.headline import HEADLINE, Headline

__all__ = ["COPYING", "best_models", "format_pm", "latex_tables", "markdown_tables", "shared_floor"]

_NOTE = (
    "Each cell: value ± statistical uncertainty (bootstrap). The row *floor* holds the same "
    "metric between two disjoint halves of the test split, what a perfect generator scores "
    "with as many events; where models were compared on different event counts each cell "
    "gives its own floor in brackets. AUC: classifier two-sample test (0.5 = "
    "indistinguishable); W1/σ, KS D, S, χ²/ndf, MSE*: per-feature 1-Wasserstein distance "
    "(in units of the truth's standard deviation), Kolmogorov-Smirnov statistic, separation "
    "power, χ² per degree of freedom and quantile MSE*, averaged over features; ‖Δρ‖: norm "
    "of the Spearman-matrix difference; FPD, KPD: Fréchet and kernel physics distances; "
    "W1/σ obs.: mean W1 of the physics observables; tail: generated/expected events above the "
    "truth's 99 % (99.9 %) quantiles, averaged; C_T: data-copying statistic (≪ 0: copies "
    "training events); d_NN ratio: median distance to the nearest training event, generated "
    "over test; valid: fraction of generated events that needed no repair and lie inside the "
    "training's support (pT, |η|); unphysical: fraction that needed a repair (E < |p|, "
    "negative pT, ...); unusable: generated events "
    "removed because they hold NaN/inf values or fall outside the transform's support (removed "
    "when sampling, or excluded from every metric); rate: generated events per second; ESS: "
    "Kish effective sample size (Σw)²/Σw² of a reweighted sample (<model>+rw, classifier "
    "weights against the validation split) over its events. A +rw row's C_T and d_NN ratio are "
    "its plain sample's: the data-copying test takes no weights."
)


def format_pm(value: float, err: float) -> tuple[str, str, int]:
    """Round a value and its uncertainty to the uncertainty's leading digits (PDG-like).

    Two significant digits when the uncertainty starts with 1 or 2, else one; numbers whose
    uncertainty is below 1e-3 get a common power of ten.

    Arguments:
        value: the central value.
        err: its uncertainty (>= 0, may be NaN).

    Returns:
        ``(value_text, err_text, exponent)``, e.g. ``("0.328", "0.004", 0)`` or
        ``("1.31", "0.23", -3)`` for ``(1.31 ± 0.23) x 10^-3``; ``("—", "", 0)`` for NaN
        and an empty ``err_text`` when the uncertainty is unknown.
    """
    if not math.isfinite(value):
        return "—", "", 0
    if not math.isfinite(err) or err <= 0:
        return f"{value:.4g}", "", 0
    exponent = math.floor(math.log10(err))
    digits = 2 if err / 10**exponent < 3 else 1
    decimals = digits - 1 - exponent
    scale = 0
    if decimals > 4:  # tiny numbers: a common power of ten
        scale = math.floor(math.log10(max(abs(value), err)))
        value, err, decimals = value / 10**scale, err / 10**scale, decimals + scale
    d = max(decimals, 0)
    return f"{value:.{d}f}", f"{err:.{d}f}", scale


def shared_floor(rows: pd.DataFrame, key: str) -> bool:
    """Whether every model of one dataset has the same floor for ``key`` (same halves, same N)."""
    floors = rows[f"{key}_floor"].to_numpy(dtype=float)
    finite = floors[np.isfinite(floors)]
    return len(finite) == 0 or bool(np.allclose(finite, finite[0], rtol=1e-9, atol=0.0))


def _cell(value: float, err: float, *, tex: bool, floor: float | None = None) -> str:
    v, e, scale = format_pm(value, err)
    if v == "—":
        text = "---" if tex else v
    elif not e:
        text = f"${v}$" if tex else v
    elif tex:
        text = f"$({v} \\pm {e})\\times 10^{{{scale}}}$" if scale else f"${v} \\pm {e}$"
    else:
        text = f"({v} ± {e})e{scale}" if scale else f"{v} ± {e}"
    if floor is not None and math.isfinite(floor):
        text += f" [{floor:.3g}]"
    return text


def _headlines(table: int) -> list[Headline]:
    return [h for h in HEADLINE if h.table == table]


def _rows(frame: pd.DataFrame, headlines: list[Headline], *, tex: bool) -> list[list[str]]:
    """Per dataset: a floor row (when shared), then one row per model."""
    out = []
    for dataset, rows in frame.groupby("dataset", sort=True):
        shared = {h.key: shared_floor(rows, h.key) for h in headlines}
        first = rows.iloc[0]
        floor_cells = [
            _cell(first[f"{h.key}_floor"], first[f"{h.key}_floor_err"], tex=tex)
            if shared[h.key]
            else "per cell"
            for h in headlines
        ]
        out.append([str(dataset), "floor (truth)", *floor_cells])
        for _, row in rows.iterrows():
            cells = [
                _cell(
                    row[h.key],
                    row[f"{h.key}_err"],
                    tex=tex,
                    floor=None if shared[h.key] else row[f"{h.key}_floor"],
                )
                for h in headlines
            ]
            out.append([str(dataset), str(row["model"]), *cells])
    return out


def _extras(row: pd.Series | None, *, tex: bool) -> list[str]:
    """Valid and unphysical fractions, unusable events, sampling rate [kHz] and ESS fraction
    of a model row (blank for the floor row; ESS only for reweighted samples)."""
    if row is None:
        return ["", "", "", "", ""]
    missing = "---" if tex else "—"
    valid, rate = row["valid_fraction"], row["rate_hz"]
    unphysical = row.get("unphysical_fraction", math.nan)
    unusable, ess = row.get("unusable", math.nan), row.get("ess_fraction", math.nan)
    return [
        missing if not math.isfinite(valid) else f"{valid:.4f}",
        missing if not math.isfinite(unphysical) else f"{unphysical:.4f}",
        missing if not math.isfinite(unusable) else f"{unusable:.0f}",
        missing if not math.isfinite(rate) else f"{rate / 1e3:.0f}",
        missing if not math.isfinite(ess) else f"{ess:.2f}",
    ]


def markdown_tables(frame: pd.DataFrame) -> str:
    """Two Markdown tables (distribution metrics; physics distances, tails, data copying).

    Arguments:
        frame: the leaderboard (:func:`hepgen.plotting.leaderboard.leaderboard_table`).

    Returns:
        Markdown text with both tables and a note explaining every column.
    """
    parts = []
    for number, title in ((1, "Distributions"), (2, "Physics distances, tails, data copying")):
        headlines = _headlines(number)
        names = [h.label for h in headlines]
        extra = ["valid", "unphysical", "unusable", "rate [kHz]", "ESS"] if number == 2 else []
        lines = [
            f"### {title}",
            "",
            "| dataset | model | " + " | ".join([*names, *extra]) + " |",
            "|---|---|" + "---:|" * (len(names) + len(extra)),
        ]
        by_model = {(r["dataset"], r["model"]): r for _, r in frame.iterrows()}
        for cells in _rows(frame, headlines, tex=False):
            more = _extras(by_model.get((cells[0], cells[1])), tex=False) if extra else []
            lines.append("| " + " | ".join([*cells, *more]) + " |")
        parts.append("\n".join(lines))
    parts.append(_best_lines(frame))
    return "\n\n".join(parts) + "\n\n" + _NOTE + "\n"


#: A model whose data-copying statistic C_T is below this copies its training events.
COPYING = -3.0


def best_models(table: pd.DataFrame) -> dict[str, str | None]:
    """Per dataset, the best model: lowest AUC − floor among those that do not copy
    (C_T > :data:`COPYING`); ``None`` where every model copies."""
    best: dict[str, str | None] = {}
    for dataset, rows in table.groupby("dataset", sort=True):
        honest = rows[rows["copy_z"] > COPYING]
        gap = honest["auc"] - honest["auc_floor"]
        best[str(dataset)] = None if gap.empty else str(honest.loc[gap.idxmin(), "model"])
    return best


def _best_lines(frame: pd.DataFrame) -> str:
    """One line per dataset naming its best model (see ``leaderboard.best_models``)."""
    lines = []
    for dataset, model in best_models(frame).items():
        if model is None:
            lines.append(f"**Best on {dataset}:** none (every model copies, C_T < {COPYING:g}).")
            continue
        row = frame[(frame["dataset"] == dataset) & (frame["model"] == model)].iloc[0]
        lines.append(
            f"**Best on {dataset}: {model}** (AUC − floor {row['auc'] - row['auc_floor']:.3f}, "
            f"C_T {row['copy_z']:.1f}; the lowest AUC − floor among models with C_T > {COPYING:g})."
        )
    return "\n".join(lines)


def latex_tables(frame: pd.DataFrame) -> str:
    """Two booktabs tables (``tabular``), ready to ``\\input`` with ``\\usepackage{booktabs}``.

    Arguments:
        frame: the leaderboard (:func:`hepgen.plotting.leaderboard.leaderboard_table`).

    Returns:
        LaTeX text.
    """
    parts = ["% hepgen leaderboard; needs \\usepackage{booktabs}. Cells: value \\pm uncertainty."]
    for number in (1, 2):
        headlines = _headlines(number)
        extra = ["valid", "unphysical", "unusable", "rate [kHz]", "ESS"] if number == 2 else []
        header = ["dataset", "model", *(h.tex for h in headlines), *extra]
        lines = [
            "\\begin{tabular}{ll" + "r" * (len(header) - 2) + "}",
            "\\toprule",
            " & ".join(header) + " \\\\",
            "\\midrule",
        ]
        by_model = {(r["dataset"], r["model"]): r for _, r in frame.iterrows()}
        previous = None
        for cells in _rows(frame, headlines, tex=True):
            if previous is not None and cells[0] != previous:
                lines.append("\\midrule")
            previous = cells[0]
            more = _extras(by_model.get((cells[0], cells[1])), tex=True) if extra else []
            escaped = [_escape(c) for c in cells[:2]] + cells[2:] + more
            lines.append(" & ".join(escaped) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _escape(text: str) -> str:
    """Escape a dataset or model name (letters, digits and ``_.+-``, see the config schema)."""
    for char in ("&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(char, "\\" + char)
    return text
