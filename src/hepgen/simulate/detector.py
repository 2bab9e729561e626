"""Parametrised detector response: resolutions, Gaussian smearing and flavour tagging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from hepgen.errors import HepgenError

__all__ = [
    "DetectorConfig",
    "acceptance_margin",
    "btag",
    "ecal_angle_resolution",
    "ecal_resolution",
    "jet_angle_resolution",
    "jet_resolution",
    "known_response_resolution",
    "muon_resolution",
    "smear_direction",
    "smear_factor",
    "track_angle_resolution",
    "wrap_phi",
]


@dataclass(frozen=True)
class DetectorConfig:
    """Numbers of the parametrised detector; every field is a ``simulate`` option.

    The values are typical of the LHC general-purpose detectors at low pile-up; they are
    not tuned to any one publication. Resolutions are relative (σ/x) and combine their
    terms in quadrature; energies and momenta in GeV.

    Angular resolutions are absolute, the same for η and φ (rad), and combine in quadrature:

    - tracks (muons and electrons take their direction from the track): σ = c ⊕ m/pT, a
      constant of 0.2 mrad and a multiple-scattering term of 2 mrad·GeV, the size of the
      silicon trackers' σ(φ₀), σ(cot θ) (ATLAS, JINST 3 (2008) S08003, sec. 10.2; CMS,
      JINST 9 (2014) P10009): 0.2 mrad at 40 GeV, 0.4 mrad at 5 GeV;
    - photons (calorimeter shower position): σ = a/√E ⊕ c, 10 mrad·√GeV and 0.5 mrad, the
      size of the barycentre resolution of a finely segmented EM calorimeter: 3 mrad at
      10 GeV, 1.5 mrad at 50 GeV;
    - jets: σ = N/pT ⊕ c, 1 rad·GeV and 0.01, the size of the particle-flow jet η and φ
      resolutions (CMS, JINST 12 (2017) P10003): 0.035 at 30 GeV, 0.014 at 100 GeV.

    Acceptance (``eta_max``) and thresholds act on the reconstructed (smeared) values. The
    generator-level collections keep the e, μ and γ that are prompt (not from hadron or τ
    decays), and the jets clustered before smearing, above the ``gen_*_pt_min`` thresholds
    and within ``calo_eta_max``; each is matched to the closest reconstructed object of its
    kind within the ``*_match_dr`` cone, each reconstructed object at most once.
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
    track_angle_constant: float = 2.0e-4  # μ/e track σ(η) = σ(φ) at high pT [rad]
    track_angle_ms: float = 2.0e-3  # μ/e track σ(η) = σ(φ) multiple scattering [rad·GeV] / pT
    ecal_angle_stochastic: float = 0.01  # photon σ(η) = σ(φ) stochastic term [rad·√GeV] / √E
    ecal_angle_constant: float = 5.0e-4  # photon σ(η) = σ(φ) constant term [rad]
    jet_angle_noise: float = 1.0  # jet σ(η) = σ(φ) term [rad·GeV] / pT
    jet_angle_constant: float = 0.01  # jet σ(η) = σ(φ) constant term [rad]
    gen_lep_pt_min: float = 5.0  # generator-level lepton pT threshold (half the reco one)
    gen_photon_pt_min: float = 5.0  # generator-level photon pT threshold (half the reco one)
    gen_jet_pt_min: float = 10.0  # generator-level jet pT threshold (half the reco one)
    lep_match_dr: float = 0.1  # ΔR cone matching generator-level to reconstructed leptons
    photon_match_dr: float = 0.1  # ΔR cone matching generator-level to reconstructed photons
    jet_match_dr: float = 0.2  # ΔR cone matching generator-level to reconstructed jets
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


def track_angle_resolution(pt: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Track direction resolution σ(η) = σ(φ) = c ⊕ m/pT (muons and electrons).

    Arguments:
        pt: true transverse momenta [GeV], positive, any shape.
        config: the detector config.

    Returns:
        σ [rad], same shape as ``pt``.
    """
    return np.hypot(config.track_angle_constant, config.track_angle_ms / np.maximum(pt, 1e-9))


def ecal_angle_resolution(energy: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Photon direction resolution σ(η) = σ(φ) = a/√E ⊕ c.

    Arguments:
        energy: true energies [GeV], positive, any shape.
        config: the detector config.

    Returns:
        σ [rad], same shape as ``energy``.
    """
    e = np.maximum(energy, 1e-9)
    return np.sqrt(config.ecal_angle_stochastic**2 / e + config.ecal_angle_constant**2)


def jet_angle_resolution(pt: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Jet direction resolution σ(η) = σ(φ) = N/pT ⊕ c.

    Arguments:
        pt: true jet transverse momenta [GeV], positive, any shape.
        config: the detector config.

    Returns:
        σ [rad], same shape as ``pt``.
    """
    return np.hypot(config.jet_angle_noise / np.maximum(pt, 1e-9), config.jet_angle_constant)


def acceptance_margin(config: DetectorConfig) -> float:
    """How far beyond ``eta_max`` a true lepton or photon may still be smeared into it.

    Five times the largest track or photon angular resolution at the loosest candidate pT
    (half the reconstruction threshold, taking E = pT).

    Arguments:
        config: the detector config.

    Returns:
        The margin in η.
    """
    track = track_angle_resolution(np.array(0.5 * config.lep_pt_min), config)
    photon = ecal_angle_resolution(np.array(0.5 * config.photon_pt_min), config)
    return 5.0 * float(max(track, photon))


def wrap_phi(phi: np.ndarray) -> np.ndarray:
    """Azimuths mapped into (−π, π].

    Arguments:
        phi: angles [rad], any shape.

    Returns:
        The same angles modulo 2π, in (−π, π].
    """
    wrapped = np.pi - np.mod(np.pi - phi, 2.0 * np.pi)
    return np.where(wrapped <= -np.pi, wrapped + 2.0 * np.pi, wrapped)


def smear_direction(
    eta: np.ndarray, phi: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian smearing of η and φ with the same width, φ wrapped into (−π, π].

    Arguments:
        eta: true pseudorapidities, shape (n,).
        phi: true azimuths [rad], shape (n,).
        sigma: angular resolutions [rad], shape (n,).
        rng: the detector's random generator.

    Returns:
        Smeared η and φ, shape (n,) each.
    """
    z = rng.standard_normal((2, len(sigma)))
    return eta + sigma * z[0], wrap_phi(phi + sigma * z[1])


def smear_factor(sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian response factors 1 + σ·N(0, 1), truncated at zero.

    Multiplying a four-momentum by the factor smears its energy and pT by the relative
    resolution ``sigma`` and keeps its direction (see ``smear_direction`` for that).

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


def known_response_resolution(
    simulate: Mapping[str, Any], gen_prefix: str
) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """The parametrised detector's own σ(reco pT / gen pT), as ``f(gen pT, |η|)``, for the gen
    collection a fast-simulation dataset pairs (``pairs.gen.prefix``), or ``None`` where one
    curve does not describe it (leptons of both flavours, a collection the source does not
    write). A learned detector response is judged against it (``plot_response``).

    Arguments:
        simulate: the dataset's ``simulate`` options (process, lepton, detector options).
        gen_prefix: ``gen_lep_``, ``gen_jet_`` or ``gen_photon_``.
    """
    config = DetectorConfig.from_options(
        {k: v for k, v in simulate.items() if k in DetectorConfig.names()}
    )
    if gen_prefix == "gen_jet_":
        return lambda pt, abs_eta: jet_resolution(np.asarray(pt, float), config)
    if gen_prefix == "gen_photon_":
        return lambda pt, abs_eta: ecal_resolution(np.asarray(pt, float) * np.cosh(abs_eta), config)
    if gen_prefix == "gen_lep_" and simulate.get("process") == "dy_ll":
        if simulate.get("lepton", "mu") == "mu":
            return lambda pt, abs_eta: muon_resolution(np.asarray(pt, float), config)
        return lambda pt, abs_eta: ecal_resolution(np.asarray(pt, float) * np.cosh(abs_eta), config)
    return None
