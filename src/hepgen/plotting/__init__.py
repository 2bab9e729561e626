"""Figures and tables: feature histograms with ratio panels and the model leaderboard."""

from __future__ import annotations

from hepgen.plotting.histograms import binned, histogram_edges, plot_feature_grid
from hepgen.plotting.labels import feature_label
from hepgen.plotting.leaderboard import leaderboard_table, load_records, write_leaderboard
from hepgen.plotting.style import style

__all__ = [
    "binned",
    "feature_label",
    "histogram_edges",
    "leaderboard_table",
    "load_records",
    "plot_feature_grid",
    "style",
    "write_leaderboard",
]
