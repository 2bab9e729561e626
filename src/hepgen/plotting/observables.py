"""Truth-vs-generated histograms of the physics observables (masses, pT, separations, ...)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from hepgen.plotting.histograms import metric_notes, plot_model_grid
from hepgen.preprocessing.observables import observables

__all__ = ["SUBJECT", "plot_observables"]

#: Appended to the figure title.
SUBJECT = "physics observables"


def plot_observables(
    truth: pd.DataFrame,
    generated: pd.DataFrame,
    *,
    metrics: Mapping[str, Any],
    path: str | os.PathLike,
    dataset: str,
    model: str,
) -> Figure:
    """Save the histograms of the observables the evaluate stage compared, one panel each.

    The observables are computed from both event tables (:func:`hepgen.preprocessing.observables`);
    an event lacking an observable's objects is left out of that panel, and an observable no
    event of one sample defines (e.g. ΔR_jj of a model that never generates two jets) gets no
    panel but is named in the title.

    Arguments:
        truth: the test split, physical units.
        generated: the model's samples, physical units.
        metrics: the model's evaluate record: its ``observables`` name the panels, in order,
            and each panel notes its observable's W1 and floor from ``w1_obs``.
        path: output PNG path, written atomically.
        dataset: the dataset's name.
        model: the model's name.

    Returns:
        The saved figure (see :func:`hepgen.plotting.histograms.plot_feature_grid`).
    """
    return plot_model_grid(
        truth,
        generated,
        features=list(metrics["observables"]),
        path=path,
        dataset=dataset,
        model=model,
        notes=metric_notes(metrics.get("w1_obs", {}), "observables"),
        quantities=observables,
        subject=SUBJECT,
        allow_missing=True,
    )
