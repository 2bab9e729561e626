"""Figures and tables: histograms with ratio panels, correlations, latent spaces, training
curves and the model leaderboard."""

from __future__ import annotations

from hepgen.plotting.correlations import plot_correlations
from hepgen.plotting.histograms import binned, histogram_edges, metric_notes, plot_feature_grid
from hepgen.plotting.labels import feature_label
from hepgen.plotting.latent import LATENT_TYPES, has_latent_space, latent_points, plot_latent
from hepgen.plotting.leaderboard import leaderboard_table, load_records, write_leaderboard
from hepgen.plotting.style import style
from hepgen.plotting.summary import plot_leaderboard
from hepgen.plotting.training import plot_training

__all__ = [
    "LATENT_TYPES",
    "binned",
    "feature_label",
    "has_latent_space",
    "histogram_edges",
    "latent_points",
    "leaderboard_table",
    "load_records",
    "metric_notes",
    "plot_correlations",
    "plot_feature_grid",
    "plot_latent",
    "plot_leaderboard",
    "plot_training",
    "style",
    "write_leaderboard",
]
