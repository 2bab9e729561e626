"""Tests of the detector-response figure: resolution and efficiency vs gen pT per |eta| bin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastsim_objects import fastsim, sigma_pt

from hepgen.errors import HepgenError
from hepgen.metrics.response import response_metrics
from hepgen.plotting.response import PT_LABEL, RESOLUTION_LABELS, plot_response

PT_EDGES = [20.0, 25.0, 30.0, 40.0, 60.0, 100.0, 200.0]
ETA_EDGES = [0.0, 1.5, 2.5]


@pytest.fixture(scope="module")
def record() -> dict:
    truth, generated = fastsim(60_000, 0), fastsim(60_000, 1, widen=1.3)
    return response_metrics(
        truth, generated, seed=2, pt_bins=PT_EDGES, abs_eta_bins=ETA_EDGES, bootstrap=10
    )


def known(pt: np.ndarray, abs_eta: float) -> np.ndarray:
    return sigma_pt(pt)


def test_resolution_and_efficiency_panels_show_the_record(
    tmp_path: Path, record: dict, panels, legends
) -> None:
    path = tmp_path / "response.png"
    figure = plot_response(record, path=path, title="fastsim: cfm", model="cfm", known=known)
    assert path.is_file()
    shown = panels(figure)
    assert len(shown) == 4  # resolution and efficiency for each of two |eta| bins
    top, bottom = shown[:2], shown[2:]
    assert [ax.get_title() for ax in top] == [
        r"$0 \leq |\eta^{gen}| < 1.5$",
        r"$1.5 \leq |\eta^{gen}| < 2.5$",
    ]
    assert top[0].get_ylabel() == RESOLUTION_LABELS["response"]
    assert bottom[0].get_ylabel() == "efficiency"
    assert [ax.get_xlabel() for ax in bottom] == [PT_LABEL, PT_LABEL]
    assert bottom[0].get_xscale() == "log"  # 20-200 GeV: a decade
    assert legends(figure) == [["cfm", r"detector $\sigma(p_T)$", "truth (test split)"]]
    n_pt = len(PT_EDGES) - 1
    for j, (res, eff) in enumerate(zip(top, bottom, strict=True)):
        column = record["bins"][j * n_pt : (j + 1) * n_pt]
        # truth: points at the mean gen pT of the bin, with the bootstrap errors
        points = res.containers[0].lines[0]
        np.testing.assert_allclose(points.get_xdata(), [b["truth"]["pt_mean"] for b in column])
        np.testing.assert_allclose(
            points.get_ydata(), [b["truth"]["resolution"]["response"]["value"] for b in column]
        )
        # generated: a line 30 % above the truth points, the known curve through the truth
        generated = next(line for line in res.lines if line.get_label() == "cfm")
        np.testing.assert_allclose(
            generated.get_ydata(),
            [b["generated"]["resolution"]["response"]["value"] for b in column],
        )
        assert np.all(generated.get_ydata() > 1.15 * points.get_ydata())
        curve = next(line for line in res.lines if line.get_label().startswith("detector"))
        np.testing.assert_allclose(curve.get_ydata(), sigma_pt(curve.get_xdata()))
        assert curve.get_xdata()[[0, -1]] == pytest.approx([PT_EDGES[0], PT_EDGES[-1]])
        eff_points = eff.containers[0].lines[0]
        np.testing.assert_allclose(
            eff_points.get_ydata(), [b["truth"]["efficiency"]["value"] for b in column]
        )
        assert len(res.collections) >= 1  # the generated band
    summary = record["summary"]
    assert f"worst |σ ratio − 1| {summary['worst_deviation']:.3f}" in figure.get_suptitle()
    assert "within 10 %: 0/12 bins" in figure.get_suptitle()


def test_without_a_known_curve_and_for_an_angle(tmp_path: Path, record: dict, panels) -> None:
    figure = plot_response(record, path=tmp_path / "r.png", title="t", quantity="deta")
    top = panels(figure)[0]
    assert top.get_ylabel() == RESOLUTION_LABELS["deta"]
    assert [line.get_label() for line in top.lines if not line.get_label().startswith("_")] == [
        "generated"
    ]
    np.testing.assert_allclose(top.containers[0].lines[0].get_ydata(), 0.01, rtol=0.15)


def test_a_quantity_the_record_lacks_is_named(tmp_path: Path, record: dict) -> None:
    with pytest.raises(HepgenError, match="not 'mass'"):
        plot_response(record, path=tmp_path / "r.png", title="t", quantity="mass")
    assert list(tmp_path.iterdir()) == []
