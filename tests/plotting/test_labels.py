"""Tests of the axis-label helper."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from hepgen.plotting.labels import feature_label


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("mu1_pt", r"$p_T$ ($\mu_{1}$) [GeV]"),
        ("mu2_eta", r"$\eta$ ($\mu_{2}$)"),
        ("jet3_phi", r"$\phi$ (jet 3) [rad]"),
        ("photon1_e", r"$E$ ($\gamma_{1}$) [GeV]"),
        ("met", r"$E_T^{miss}$ [GeV]"),
        ("met_phi", r"$\phi(E_T^{miss})$ [rad]"),
        ("n_mu", r"number of $\mu$"),
        ("n_jet", "number of jets"),
        ("custom_column", "custom_column"),
    ],
)
def test_labels(name: str, label: str) -> None:
    assert feature_label(name) == label


def test_labels_render_as_mathtext() -> None:
    figure = Figure()
    axes = figure.add_subplot()
    for name in ("mu1_pt", "mu2_eta", "jet3_phi", "met", "met_phi", "n_mu", "e1_e"):
        axes.set_xlabel(feature_label(name))
        figure.canvas.draw()  # raises on malformed mathtext


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("m_mumu", r"$m_{\mu\mu}$ [GeV]"),
        ("pt_ee", r"$p_T^{ee}$ [GeV]"),
        ("dr_ll", r"$\Delta R_{\ell\ell}$"),
        ("mt", r"$m_T(\ell_1, E_T^{miss})$ [GeV]"),
        ("m_jjb_top", "$m_{jjb}$ (top candidate) [GeV]"),
        ("n_jets", "number of jets"),
        ("ll_m", r"$m_{\ell\ell}$ [GeV]"),
        ("ll_costheta", r"$\cos\theta^*_{\ell\ell}$"),
        ("mumu_phistar", r"$\phi^*_{\mu\mu}$ [rad]"),
        ("zcand_y", r"$y_{\mathrm{zcand}}$"),
        ("ll_phi", r"$\phi_{\ell\ell}$ [rad]"),
        ("met_para", r"$E_{T,\parallel}^{miss}$ (along the reference) [GeV]"),
        ("met_perp", r"$E_{T,\perp}^{miss}$ (across the reference) [GeV]"),
    ],
)
def test_observable_labels(name: str, label: str) -> None:
    assert feature_label(name) == label
    figure = Figure()
    figure.add_subplot().set_xlabel(label)
    figure.canvas.draw()
