"""Resolution functions, Gaussian smearing widths, b-tag rates and detector options."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.errors import HepgenError
from hepgen.simulate.detector import (
    DetectorConfig,
    btag,
    ecal_resolution,
    jet_resolution,
    muon_resolution,
    smear_factor,
)

CONFIG = DetectorConfig()


def test_resolutions_at_reference_points():
    # Muons: 1 % ⊕ 1e-4·pT → 1.4 % at 100 GeV, 10 % at 1 TeV.
    assert muon_resolution(np.array([100.0, 1000.0]), CONFIG) == pytest.approx(
        [np.hypot(0.01, 0.01), np.hypot(0.01, 0.1)]
    )
    # Electrons/photons: 10 %/√E ⊕ 0.25 GeV/E ⊕ 0.7 % → 1.7 % at 50 GeV.
    assert ecal_resolution(np.array([50.0]), CONFIG)[0] == pytest.approx(
        np.sqrt(0.01 / 50 + (0.25 / 50) ** 2 + 0.007**2)
    )
    assert ecal_resolution(np.array([50.0]), CONFIG)[0] == pytest.approx(0.0166, abs=2e-4)
    # Jets: 3 GeV/pT ⊕ 75 %/√pT ⊕ 4 % → 9.0 % at 100 GeV, 23 % at 20 GeV.
    assert jet_resolution(np.array([100.0, 20.0]), CONFIG) == pytest.approx(
        [0.0901, 0.2285], abs=2e-4
    )


def test_resolutions_fall_with_energy_for_calorimeter_objects():
    x = np.geomspace(5.0, 2000.0, 50)
    assert np.all(np.diff(jet_resolution(x, CONFIG)) < 0)
    assert np.all(np.diff(ecal_resolution(x, CONFIG)) < 0)
    assert np.all(np.diff(muon_resolution(x, CONFIG)) > 0)  # tracker: worse at high pT


@pytest.mark.parametrize(
    ("resolution", "x"),
    [
        (muon_resolution, 45.0),
        (ecal_resolution, 30.0),
        (jet_resolution, 60.0),
        (jet_resolution, 500.0),
    ],
)
def test_smearing_width_matches_resolution(resolution, x):
    rng = np.random.default_rng(3)
    n = 200_000
    sigma = resolution(np.full(n, x), CONFIG)
    k = smear_factor(sigma, rng)
    assert np.mean(k) == pytest.approx(1.0, abs=5 * sigma[0] / np.sqrt(n))
    assert np.std(k) == pytest.approx(sigma[0], rel=0.02)


def test_smear_factor_is_never_negative():
    k = smear_factor(np.full(10_000, 0.8), np.random.default_rng(0))
    assert k.min() == 0.0
    assert np.all(k >= 0.0)


@pytest.mark.parametrize(("label", "rate"), [(5, 0.7), (4, 0.1), (0, 0.01)])
def test_btag_rates_match_config(label, rate):
    n = 100_000
    tags = btag(np.full(n, label), CONFIG, np.random.default_rng(1))
    assert tags.dtype == bool
    assert tags.mean() == pytest.approx(rate, abs=4 * np.sqrt(rate * (1 - rate) / n))


def test_btag_uses_configured_efficiencies():
    config = DetectorConfig.from_options({"btag_eff_b": 0.5, "btag_eff_light": 0.2})
    tags = btag(np.array([5] * 50_000 + [0] * 50_000), config, np.random.default_rng(2))
    assert tags[:50_000].mean() == pytest.approx(0.5, abs=0.01)
    assert tags[50_000:].mean() == pytest.approx(0.2, abs=0.01)


def test_options_override_defaults():
    config = DetectorConfig.from_options({"jet_pt_min": 30, "lep_pt_min": 25.0})
    assert config.jet_pt_min == 30.0
    assert config.lep_pt_min == 25.0
    assert config.photon_pt_min == DetectorConfig().photon_pt_min


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"jet_ptmin": 30.0}, "jet_ptmin"),
        ({"jet_pt_min": "thirty"}, "jet_pt_min"),
        ({"lep_pt_min": -1.0}, "lep_pt_min"),
        ({"btag_eff_b": 1.5}, "btag_eff_b"),
    ],
)
def test_bad_detector_options_raise(options, match):
    with pytest.raises(HepgenError, match=match):
        DetectorConfig.from_options(options)
