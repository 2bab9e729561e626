"""Tests of the figure style."""

from __future__ import annotations

import matplotlib as mpl

from hepgen.plotting.style import STYLE, style


def test_style_applies_inside_the_block_only() -> None:
    before = mpl.rcParams["xtick.direction"]
    with style():
        assert mpl.rcParams["xtick.direction"] == STYLE["xtick.direction"] == "in"
        assert mpl.rcParams["savefig.dpi"] == STYLE["savefig.dpi"]
    assert mpl.rcParams["xtick.direction"] == before
