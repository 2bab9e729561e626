"""Metrics records shared by the leaderboard, table and figure tests, and readers of what a
returned figure shows (its panels and legend entries)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def data_panels(figure: Figure) -> list[Axes]:
    """The panels that show data, in drawing order: visible axes with their frame on that hold
    lines, collections, patches or images (not colour bars, nor switched-off grid cells)."""
    return [
        ax
        for ax in figure.axes
        if ax.get_visible()
        and ax.axison
        and ax.get_label() != "<colorbar>"
        and (ax.lines or ax.collections or ax.patches or ax.images)
    ]


def legend_texts(figure: Figure) -> list[list[str]]:
    """The entries of every legend of the figure (figure legends first, then per panel)."""
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes)]
    return [[t.get_text() for t in legend.get_texts()] for legend in legends if legend]


@pytest.fixture
def panels() -> Callable[[Figure], list[Axes]]:
    """The :func:`data_panels` reader."""
    return data_panels


@pytest.fixture
def legends() -> Callable[[Figure], list[list[str]]]:
    """The :func:`legend_texts` reader."""
    return legend_texts


def entry(value: float, floor: float) -> dict:
    """A metric entry with fixed uncertainties."""
    return {"value": value, "err": 0.01, "floor": floor, "floor_err": 0.005}


def metrics_record(auc: float, w1: float, *, copy_z: float = 0.3) -> dict:
    """A metrics record as the evaluate stage writes it (a subset of the metrics)."""
    return {
        "n_truth": 4000,
        "n_generated": 20000,
        "n_compared": 2000,
        "w1": {"features": {}, "mean": entry(w1, 0.02)},
        "auc": entry(auc, 0.505),
        "fpd": entry(0.01, 0.002),
        "memorisation": {"z_u": entry(copy_z, 0.1), "distance_ratio": entry(1.0, 1.0)},
        "sampling": {"rate_hz": 8.0e4, "valid_fraction": None},
        "seconds": {"total": 12.5},
    }


@pytest.fixture
def records() -> list[dict]:
    """Three models on two datasets."""
    return [
        {"dataset": "ttbar", "model": "vae", "metrics": metrics_record(0.71, 0.09)},
        {"dataset": "dy_mumu", "model": "vae", "metrics": metrics_record(0.64, 0.05)},
        {
            "dataset": "dy_mumu",
            "model": "bvae",
            "metrics": metrics_record(0.55, 0.03, copy_z=-15.0),
        },
    ]


@pytest.fixture
def make_record() -> Callable[..., dict]:
    """The :func:`metrics_record` factory."""
    return metrics_record


@pytest.fixture
def make_entry() -> Callable[[float, float], dict]:
    """The :func:`entry` factory."""
    return entry
