"""Figures and tables: histograms with ratio panels, correlations, latent spaces, training
curves, the detector response of a fast simulation and the model leaderboard.

Each plot rule ``plot_X`` of the workflow runs ``scripts/plot_X.py``, whose figure code lives
in ``hepgen.plotting.X``. Every ``plot_*`` function writes its PNG atomically and returns the
:class:`matplotlib.figure.Figure` it drew, for callers (and tests) to inspect. The figures are
built with matplotlib's object interface, not pyplot: no figure manager holds them, so they are
freed once the caller drops them and need no ``plt.close``.

Names load on first use (:mod:`hepgen.lazy`): a figure job imports only what its figure needs.
"""

from __future__ import annotations

from hepgen.lazy import lazy_attributes

# a name of its own submodule: bound here, before any import can rebind it to the module
from hepgen.plotting.style import style as style

_WHERE = {
    "LATENT_TYPES": "hepgen.plotting.latent",
    "binned": "hepgen.plotting.histograms",
    "feature_label": "hepgen.plotting.labels",
    "has_latent_space": "hepgen.plotting.latent",
    "histogram_edges": "hepgen.plotting.histograms",
    "latent_points": "hepgen.plotting.latent",
    "leaderboard_table": "hepgen.plotting.leaderboard",
    "load_records": "hepgen.plotting.leaderboard",
    "metric_notes": "hepgen.plotting.histograms",
    "plot_correlations": "hepgen.plotting.correlations",
    "plot_feature_grid": "hepgen.plotting.histograms",
    "plot_histograms": "hepgen.plotting.histograms",
    "plot_latent": "hepgen.plotting.latent",
    "plot_leaderboard": "hepgen.plotting.leaderboard",
    "plot_model_grid": "hepgen.plotting.histograms",
    "plot_observables": "hepgen.plotting.observables",
    "plot_preprocessing": "hepgen.plotting.preprocessing",
    "plot_response": "hepgen.plotting.response",
    "plot_training": "hepgen.plotting.training",
    "preprocessing_view": "hepgen.plotting.preprocessing",
    "write_leaderboard": "hepgen.plotting.leaderboard",
}

__all__ = sorted([*_WHERE, "style"])

__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
