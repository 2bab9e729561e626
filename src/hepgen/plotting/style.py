"""A neutral, readable matplotlib style for hepgen figures (no experiment branding)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import matplotlib as mpl

__all__ = ["COLORS", "DPI", "STYLE", "style"]

#: Resolution of saved PNG figures [dots per inch].
DPI = 120

#: Truth (reference) and generated colours, distinguishable with common colour-vision deficiencies.
COLORS = {"truth": "#0072b2", "generated": "#d55e00", "band": "#a0a0a0"}

#: rcParams shared by every hepgen figure: inward ticks on all sides, minor ticks, clear fonts.
STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.labelsize": 10.5,
    "axes.titlesize": 11,
    "figure.titlesize": 13,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.5,
    "axes.formatter.limits": (-3, 4),
    "axes.formatter.use_mathtext": True,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply :data:`STYLE` inside the block without touching the global rcParams."""
    with mpl.rc_context(STYLE):
        yield
