"""Parametrised detector response: resolutions, Gaussian smearing and flavour tagging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from hepgen.errors import HepgenError

__all__ = [
    "DetectorConfig",
    "btag",
    "ecal_resolution",
    "jet_resolution",
    "muon_resolution",
    "smear_factor",
]


@dataclass(frozen=True)
class DetectorConfig:
    """Numbers of the parametrised detector; every field is a ``simulate`` option.

    The values are typical of the LHC general-purpose detectors at low pile-up; they are
    not tuned to any one publication. Resolutions are relative (σ/x) and combine their
    terms in quadrature; energies and momenta in GeV.
    """

    eta_max: float = 2.5  # |η| acceptance of leptons, photons and jets (tracker coverage)
    calo_eta_max: float = 4.9  # particles beyond this |η| escape along the beam pipe
    lep_pt_min: float = 10.0  # reconstructed lepton pT threshold
    photon_pt_min: float = 10.0  # reconstructed photon pT threshold
    jet_pt_min: float = 20.0  # reconstructed jet pT threshold
    jet_r: float = 0.4  # anti-kT radius parameter (arXiv:0802.1189)
    iso_dr: float = 0.3  # isolation cone radius ΔR
    iso_pt_min: float = 0.5  # particles below this pT do not enter isolation sums
    lep_iso_max: float = 0.15  # lepton kept when Σ pT(cone) / pT(lepton) is below this
    photon_iso_max: float = 0.15  # photon kept when Σ pT(cone) / pT(photon) is below this
    muon_constant: float = 0.01  # muon σ(pT)/pT at low pT (multiple scattering)
    muon_slope: float = 1.0e-4  # muon σ(pT)/pT per GeV (sagitta): 10 % at 1 TeV
    ecal_stochastic: float = 0.10  # e/γ σ(E)/E stochastic term [√GeV]
    ecal_noise: float = 0.25  # e/γ σ(E) noise term [GeV]
    ecal_constant: float = 0.007  # e/γ σ(E)/E constant term
    jet_noise: float = 3.0  # jet σ(pT) noise term [GeV] (electronics and underlying event)
    jet_stochastic: float = 0.75  # jet σ(pT)/pT stochastic term [√GeV]
    jet_constant: float = 0.04  # jet σ(pT)/pT constant term
    soft_stochastic: float = 0.5  # soft-term σ(px) = σ(py) per √(ΣET_soft) [√GeV]
    tag_dr: float = 0.4  # ΔR(jet, heavy-flavour hadron) for the truth flavour label
    tag_hadron_pt_min: float = 5.0  # heavy-flavour hadrons below this pT give no label
    btag_eff_b: float = 0.70  # b-tag efficiency for b jets
    btag_eff_c: float = 0.10  # mistag rate for c jets
    btag_eff_light: float = 0.01  # mistag rate for light-flavour and gluon jets

    @classmethod
    def names(cls) -> list[str]:
        """The option names, in declaration order."""
        return [f.name for f in fields(cls)]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DetectorConfig:
        """Build a config from ``simulate`` options, checking names and values.

        Arguments:
            options: a subset of ``DetectorConfig.names()`` mapped to numbers.
        """
        for key, value in options.items():
            if key not in cls.names():
                msg = f"simulate: unknown detector option {key!r}; valid: {cls.names()}"
                raise HepgenError(msg)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                msg = f"simulate.{key}: expected a non-negative number, found {value!r}"
                raise HepgenError(msg)
        config = cls(**{k: float(v) for k, v in options.items()})
        for key in ("btag_eff_b", "btag_eff_c", "btag_eff_light"):
            if getattr(config, key) > 1.0:
                msg = f"simulate.{key}: expected a probability in [0, 1], found {getattr(config, key)}"
                raise HepgenError(msg)
        return config


def muon_resolution(pt: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Relative muon momentum resolution σ(pT)/pT = c ⊕ s·pT.

    Arguments:
        pt: true transverse momenta [GeV], any shape.
        config: the detector config.

    Returns:
        σ(pT)/pT, same shape as ``pt``.
    """
    return np.hypot(config.muon_constant, config.muon_slope * pt)


def ecal_resolution(energy: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Relative electron/photon energy resolution σ(E)/E = a/√E ⊕ b/E ⊕ c.

    Arguments:
        energy: true energies [GeV], positive, any shape.
        config: the detector config.

    Returns:
        σ(E)/E, same shape as ``energy``.
    """
    e = np.maximum(energy, 1e-9)
    return np.sqrt(
        config.ecal_stochastic**2 / e + (config.ecal_noise / e) ** 2 + config.ecal_constant**2
    )


def jet_resolution(pt: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Relative jet transverse-momentum resolution σ(pT)/pT = N/pT ⊕ S/√pT ⊕ C.

    Arguments:
        pt: true jet transverse momenta [GeV], positive, any shape.
        config: the detector config.

    Returns:
        σ(pT)/pT, same shape as ``pt``.
    """
    p = np.maximum(pt, 1e-9)
    return np.sqrt(
        (config.jet_noise / p) ** 2 + config.jet_stochastic**2 / p + config.jet_constant**2
    )


def smear_factor(sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian response factors 1 + σ·N(0, 1), truncated at zero.

    Multiplying a four-momentum by the factor smears its energy and pT by the relative
    resolution ``sigma`` and keeps its direction.

    Arguments:
        sigma: relative resolutions, shape (n,).
        rng: the detector's random generator.

    Returns:
        Factors, shape (n,), all >= 0.
    """
    return np.maximum(1.0 + sigma * rng.standard_normal(len(sigma)), 0.0)


def btag(flavour: np.ndarray, config: DetectorConfig, rng: np.random.Generator) -> np.ndarray:
    """Draw b-tags for jets with the given truth flavour labels.

    Arguments:
        flavour: truth labels, shape (n,): 5 (b), 4 (c) or 0 (light/gluon).
        config: the detector config (tag efficiency per label).
        rng: the detector's random generator.

    Returns:
        Booleans, shape (n,).
    """
    eff = np.where(
        flavour == 5,
        config.btag_eff_b,
        np.where(flavour == 4, config.btag_eff_c, config.btag_eff_light),
    )
    return rng.random(len(flavour)) < eff
