"""Four-vector maps of the event representation, written once for NumPy arrays and torch tensors.

Every function takes and returns arrays of one kind: NumPy arrays in, NumPy arrays out; torch
tensors in, torch tensors out (differentiable, on the tensors' device). Energies, momenta and
masses are in GeV, angles in radians, and all arguments of one call broadcast together.

The two-body frame is the Collins–Soper frame (Collins & Soper, Phys. Rev. D 16 (1977) 2219):
the system is boosted along the beam to zero rapidity and then along its transverse momentum to
rest. There the z axis bisects the beams (it is the beam axis of the intermediate frame), x points
along the system's transverse momentum and y completes the right-handed frame. Unlike the usual
convention for pp collisions, z is not flipped with the sign of the system's rapidity: the map
stays smooth at y = 0, and no information is lost either way.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "from_cartesian",
    "met_from_relative",
    "met_relative",
    "namespace",
    "to_cartesian",
    "two_body_from_frame",
    "two_body_to_frame",
]


def namespace(x: Any) -> ModuleType:
    """``torch`` for torch tensors, else ``numpy`` (torch is imported only when a tensor is given)."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _sqrt_clipped(xp: ModuleType, x: Any) -> Any:
    return xp.sqrt(xp.clip(x, 0.0, None))


def to_cartesian(pt: Any, eta: Any, phi: Any, m: Any) -> tuple[Any, Any, Any, Any]:
    """(pT, η, φ, m) → (E, px, py, pz); E = √(|p|² + m²) ≥ |p| for any m ≥ 0."""
    xp = namespace(pt)
    pz = pt * xp.sinh(eta)
    p = pt * xp.cosh(eta)
    return xp.sqrt(p * p + m * m), pt * xp.cos(phi), pt * xp.sin(phi), pz


def from_cartesian(e: Any, px: Any, py: Any, pz: Any) -> tuple[Any, Any, Any, Any]:
    """(E, px, py, pz) → (pT, η, φ, m), m = √max(E² − |p|², 0).

    η of an object with pT = 0 is 0 (zero-padded slots stay zero), and m² < 0 (E < |p|)
    gives m = 0: count such objects before calling this where they matter.
    """
    xp = namespace(e)
    pt = xp.hypot(px, py)
    safe = xp.where(pt > 0, pt, xp.ones_like(pt))
    eta = xp.where(pt > 0, xp.arcsinh(pz / safe), xp.zeros_like(pt))
    p2 = pt * pt + pz * pz
    return pt, eta, xp.arctan2(py, px), _sqrt_clipped(xp, (e - xp.sqrt(p2)) * (e + xp.sqrt(p2)))


def two_body_to_frame(
    d1: tuple[Any, Any, Any, Any], d2: tuple[Any, Any, Any, Any]
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Two daughters (E, px, py, pz) each → the system and the decay angles of daughter 1.

    Returns:
        (m, pT, y, φ) of the system and (cos θ, φ*) of daughter 1 in the Collins–Soper frame,
        φ* measured from the system's transverse direction. A lightlike pair (m = 0, collinear
        massless daughters) has no rest frame: its angles are finite but meaningless.

    Precision: :func:`two_body_from_frame` rebuilds the daughters to 1e-6 (relative pT and E,
    absolute η and φ) for |η| ≤ 5 and daughters with pT ≥ 0.5 GeV (light daughters such as
    muons down to 1 MeV; a softer daughter of a heavy pair nearly at rest loses digits in η and
    φ) wherever the pair's energy E, mass m and rest-frame momentum p* obey E² < 1e7 m p* (a Z → μμ pair at E = 1 TeV has E² / m p* ≈ 2.5e2) and
    1 − |cos θ| > 1e-9. Nearly collinear daughters of nearly equal velocity (p* ≪ m, a large
    boost) lose digits: the mass is E² − |p|², which cancels; within 4.5e-5 rad of the
    frame's z axis (a fraction ~1e-9 of isotropic decays) cos θ cannot hold the polar angle
    in float64.
    """
    xp = namespace(d1[0])
    e, px, py, pz = (a + b for a, b in zip(d1, d2, strict=True))
    pt = xp.hypot(px, py)
    m = _sqrt_clipped(xp, (e - pz) * (e + pz) - pt * pt)
    mt = xp.sqrt(m * m + pt * pt)
    y = xp.arcsinh(pz / mt)
    phi = xp.arctan2(py, px)
    # Daughter 1: rotate by -φ, boost along z to y = 0, boost along x to rest.
    cos, sin = xp.cos(phi), xp.sin(phi)
    qx = d1[1] * cos + d1[2] * sin
    qy = -d1[1] * sin + d1[2] * cos
    ch, sh = xp.cosh(y), xp.sinh(y)
    qe = d1[0] * ch - d1[3] * sh
    qz = d1[3] * ch - d1[0] * sh
    qx = (mt * qx - pt * qe) / xp.where(m > 0, m, xp.ones_like(m))
    p = xp.sqrt(qx * qx + qy * qy + qz * qz)
    return m, pt, y, phi, qz / xp.where(p > 0, p, xp.ones_like(p)), xp.arctan2(qy, qx)


def two_body_from_frame(
    m: Any, pt: Any, y: Any, phi: Any, cos_theta: Any, phi_star: Any, m1: Any, m2: Any
) -> tuple[tuple[Any, Any, Any, Any], tuple[Any, Any, Any, Any]]:
    """The inverse of :func:`two_body_to_frame` given the daughters' masses m1, m2.

    Daughter 1 flies along (θ, φ*) in the Collins–Soper frame with the two-body momentum
    p* = √((m² − (m1 + m2)²)(m² − (m1 − m2)²)) / 2m, daughter 2 opposite; both are boosted
    back, so each keeps its mass exactly. Below threshold (m < m1 + m2) p* is 0.

    Returns:
        ((E, px, py, pz) of daughter 1, (E, px, py, pz) of daughter 2).
    """
    xp = namespace(m)
    cos_theta = xp.clip(cos_theta, -1.0, 1.0)
    sin_theta = xp.sqrt((1.0 - cos_theta) * (1.0 + cos_theta))
    safe_m = xp.where(m > 0, m, xp.ones_like(m))
    p = _sqrt_clipped(xp, (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)) / (2.0 * safe_m)
    mt = xp.sqrt(m * m + pt * pt)
    ch, sh = xp.cosh(y), xp.sinh(y)
    cos, sin = xp.cos(phi), xp.sin(phi)
    daughters = []
    for sign, mass in ((1.0, m1), (-1.0, m2)):
        qx = sign * p * sin_theta * xp.cos(phi_star)
        qy = sign * p * sin_theta * xp.sin(phi_star)
        qz = sign * p * cos_theta
        qe = xp.sqrt(p * p + mass * mass)
        ex = (mt * qe + pt * qx) / safe_m
        qx = (mt * qx + pt * qe) / safe_m
        e = ex * ch + qz * sh
        pz = qz * ch + ex * sh
        daughters.append((e, qx * cos - qy * sin, qx * sin + qy * cos, pz))
    return daughters[0], daughters[1]


def met_relative(met: Any, met_phi: Any, reference_phi: Any) -> tuple[Any, Any]:
    """MET (magnitude, φ) → components parallel and perpendicular to a reference azimuth [GeV]."""
    xp = namespace(met)
    delta = met_phi - reference_phi
    return met * xp.cos(delta), met * xp.sin(delta)


def met_from_relative(para: Any, perp: Any, reference_phi: Any) -> tuple[Any, Any]:
    """The inverse of :func:`met_relative`: (magnitude ≥ 0, φ in (-π, π])."""
    xp = namespace(para)
    phi = xp.arctan2(perp, para) + reference_phi
    return xp.hypot(para, perp), xp.arctan2(xp.sin(phi), xp.cos(phi))
