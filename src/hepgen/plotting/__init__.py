"""Figures and tables: histograms with ratio panels, correlations, latent spaces, training
curves, the detector response of a fast simulation and the model leaderboard.

Each plot rule ``plot_X`` of the workflow runs ``scripts/plot_X.py``, whose figure code lives
in ``hepgen.plotting.X``. Every ``plot_*`` function writes its PNG atomically and returns the
:class:`matplotlib.figure.Figure` it drew, for callers (and tests) to inspect. The figures are
built with matplotlib's object interface, not pyplot: no figure manager holds them, so they are
freed once the caller drops them and need no ``plt.close``.
"""

from __future__ import annotations

from hepgen.plotting.correlations import plot_correlations
from hepgen.plotting.histograms import (
    binned,
    histogram_edges,
    metric_notes,
    plot_feature_grid,
    plot_histograms,
    plot_model_grid,
)
from hepgen.plotting.labels import feature_label
from hepgen.plotting.latent import LATENT_TYPES, has_latent_space, latent_points, plot_latent
from hepgen.plotting.leaderboard import (
    leaderboard_table,
    load_records,
    plot_leaderboard,
    write_leaderboard,
)
from hepgen.plotting.observables import plot_observables
from hepgen.plotting.preprocessing import plot_preprocessing, preprocessing_view
from hepgen.plotting.response import plot_response
from hepgen.plotting.style import style
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
    "plot_histograms",
    "plot_latent",
    "plot_leaderboard",
    "plot_model_grid",
    "plot_observables",
    "plot_preprocessing",
    "plot_response",
    "plot_training",
    "preprocessing_view",
    "style",
    "write_leaderboard",
]
