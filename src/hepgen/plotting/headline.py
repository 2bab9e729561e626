"""The headline metrics of the leaderboard: where each sits in a metrics record, and its label."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENTRY", "HEADLINE", "SUFFIXES", "Headline"]

#: Keys of a metric entry and the suffixes of their leaderboard columns.
ENTRY = ("value", "err", "floor", "floor_err")
SUFFIXES = ("", "_err", "_floor", "_floor_err")


@dataclass(frozen=True)
class Headline:
    """One leaderboard metric.

    Attributes:
        key: column name in the CSV (with ``_err``, ``_floor`` and ``_floor_err`` beside it).
        path: keys leading to its ``{value, err, floor, floor_err}`` entry in a metrics record.
        label: short name for Markdown tables and figures.
        tex: the name in LaTeX tables.
        table: 1 (distribution metrics) or 2 (physics distances, tails, data copying).
        ideal: the value of a perfect generator with infinitely many events (for figures).
        required: a record without it is refused (every record has had it).
    """

    key: str
    path: tuple[str, ...]
    label: str
    tex: str
    table: int
    ideal: float = 0.0
    required: bool = False


#: The leaderboard metrics, in table order.
HEADLINE = (
    Headline("auc", ("auc",), "AUC", "AUC", 1, 0.5, required=True),
    Headline("w1_mean", ("w1", "mean"), "W1/σ", r"$W_1/\sigma$", 1, required=True),
    Headline("ks_mean", ("ks", "mean"), "KS D", r"$D_\mathrm{KS}$", 1),
    Headline("separation_mean", ("separation", "mean"), "S", "$S$", 1),
    Headline("chi2_ndf_mean", ("chi2_ndf", "mean"), "χ²/ndf", r"$\chi^2/\mathrm{ndf}$", 1, 1.0),
    Headline("quantile_mse_mean", ("quantile_mse", "mean"), "MSE*", r"MSE$^*$", 1),
    Headline("spearman", ("spearman",), "‖Δρ‖", r"$\|\Delta\rho\|_F$", 1),
    Headline("fpd", ("fpd",), "FPD", "FPD", 2),
    Headline("kpd", ("kpd",), "KPD", "KPD", 2),
    Headline("w1_obs_mean", ("w1_obs", "mean"), "W1/σ obs.", r"$W_1/\sigma$ obs.", 2),
    Headline("tail_99_mean", ("tail_99", "mean"), "tail 99 %", r"tail 99\,\%", 2, 1.0),
    Headline("tail_999_mean", ("tail_999", "mean"), "tail 99.9 %", r"tail 99.9\,\%", 2, 1.0),
    Headline("copy_z", ("memorisation", "z_u"), "C_T", "$C_T$", 2),
    Headline(
        "copy_ratio",
        ("memorisation", "distance_ratio"),
        "d_NN ratio",
        r"$d_\mathrm{NN}$ ratio",
        2,
        1.0,
    ),
)
