"""The four-vector maps of the representation: exact round trips, NumPy and torch alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hepgen.preprocessing.kinematics import (
    from_cartesian,
    met_from_relative,
    met_relative,
    to_cartesian,
    two_body_from_frame,
    two_body_to_frame,
)

MUON = 0.10566
#: Round-trip tolerance of the two-body map for |η| ≤ 5 and pT ≥ 0.5 GeV: relative on pT and
#: E, absolute on η and φ [rad], for E² < 1e7 m p* and 1 − |cos θ| > 1e-9 (see two_body_to_frame).
TOLERANCE = 1e-6

pts = st.floats(0.5, 3000.0)
etas = st.floats(-5.0, 5.0)
phis = st.floats(-np.pi, np.pi)
masses = st.sampled_from([0.0, MUON, 0.000511, 4.7, 80.0])


def _pair(pt1, eta1, phi1, pt2, eta2, phi2, m1, m2):
    d1 = to_cartesian(np.array([pt1]), np.array([eta1]), np.array([phi1]), m1)
    d2 = to_cartesian(np.array([pt2]), np.array([eta2]), np.array([phi2]), m2)
    return d1, d2


def _close_angle(a, b) -> bool:
    return bool(np.all(np.abs(np.angle(np.exp(1j * (a - b)))) < TOLERANCE))


def _check_round_trip(pt1, eta1, phi1, pt2, eta2, phi2, m1, m2) -> None:
    d1, d2 = _pair(pt1, eta1, phi1, pt2, eta2, phi2, m1, m2)
    frame = two_body_to_frame(d1, d2)
    energy, m = d1[0][0] + d2[0][0], frame[0][0]
    if not m > 0:
        return  # a lightlike pair has no rest frame
    p_star = np.sqrt(max((m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2), 0.0)) / (2 * m)
    if not energy**2 < 1e7 * m * p_star or not 1 - abs(frame[4][0]) > 1e-9:
        return  # outside the stated precision (see two_body_to_frame)
    r1, r2 = two_body_from_frame(*frame, m1, m2)
    for (pt, eta, phi, m), r in (((pt1, eta1, phi1, m1), r1), ((pt2, eta2, phi2, m2), r2)):
        back = from_cartesian(*r)
        assert back[0][0] == pytest.approx(pt, rel=TOLERANCE)
        assert back[1][0] == pytest.approx(eta, abs=TOLERANCE)
        assert _close_angle(back[2], phi)
        e = to_cartesian(pt, eta, phi, m)[0]
        assert r[0][0] == pytest.approx(e, rel=TOLERANCE)


@settings(max_examples=400, deadline=None)
@given(pts, etas, phis, pts, etas, phis, masses, masses)
def test_two_body_round_trip_is_exact(pt1, eta1, phi1, pt2, eta2, phi2, m1, m2) -> None:
    _check_round_trip(pt1, eta1, phi1, pt2, eta2, phi2, m1, m2)


@settings(max_examples=200, deadline=None)
@given(pts, etas, phis, st.floats(1e-3, 0.05), st.floats(0.05, 20.0))
def test_near_collinear_daughters_round_trip(pt, eta, phi, delta_r, ratio) -> None:
    # the second daughter at ΔR = delta_r from the first, ratio × its pT
    _check_round_trip(pt, eta, phi, pt * ratio, eta + delta_r, phi, MUON, MUON)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 0.5), etas, phis, pts, etas, phis)
def test_a_daughter_with_pt_towards_zero_round_trips(pt1, eta1, phi1, pt2, eta2, phi2) -> None:
    _check_round_trip(pt1, eta1, phi1, pt2, eta2, phi2, MUON, MUON)


def test_the_frame_is_collins_soper() -> None:
    # A system at rest: the frame is the lab, daughter 1 along +z has cos θ = 1.
    d1 = (np.array([50.0]), np.array([0.0]), np.array([0.0]), np.array([50.0]))
    d2 = (np.array([50.0]), np.array([0.0]), np.array([0.0]), np.array([-50.0]))
    m, pt, y, _, cos_theta, _ = two_body_to_frame(d1, d2)
    assert (m[0], pt[0], y[0], cos_theta[0]) == pytest.approx((100.0, 0.0, 0.0, 1.0))
    # Boosting the pair along z leaves cos θ unchanged (the z axis bisects the beams).
    rapidity = 1.3
    ch, sh = np.cosh(rapidity), np.sinh(rapidity)
    boosted = [(e * ch + pz * sh, px, py, pz * ch + e * sh) for e, px, py, pz in (d1, d2)]
    _, _, y, _, cos_theta, _ = two_body_to_frame(*boosted)
    assert y[0] == pytest.approx(rapidity)
    assert cos_theta[0] == pytest.approx(1.0)


def test_daughters_keep_their_masses_and_the_system_below_threshold_is_at_rest() -> None:
    m = np.array([91.19, 0.1])  # the second lies below the muon pair threshold
    args = (m, np.array([20.0, 5.0]), np.array([0.4, -1.0]), np.array([1.0, -2.0]))
    d1, d2 = two_body_from_frame(*args, np.array([0.3, 0.3]), np.array([2.0, 2.0]), MUON, MUON)
    for d in (d1, d2):
        assert from_cartesian(*d)[3][0] == pytest.approx(MUON, rel=1e-6)
    assert from_cartesian(*d1)[0][1] == pytest.approx(from_cartesian(*d2)[0][1])


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 500.0), phis, phis)
def test_met_relative_round_trip(met, phi, reference) -> None:
    para, perp = met_relative(np.array([met]), np.array([phi]), np.array([reference]))
    back, back_phi = met_from_relative(para, perp, np.array([reference]))
    assert back[0] == pytest.approx(met, rel=1e-12, abs=1e-12)
    if met > 1e-9:
        assert _close_angle(back_phi, phi)


def test_numpy_and_torch_agree_and_torch_is_differentiable() -> None:
    rng = np.random.default_rng(4)
    n = 64
    a = [rng.exponential(40, n) + 5, rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)]
    b = [rng.exponential(40, n) + 5, rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)]
    d1, d2 = to_cartesian(*a, MUON), to_cartesian(*b, MUON)
    frame = two_body_to_frame(d1, d2)
    tensors = [torch.tensor(x, requires_grad=True) for x in frame]
    t1, t2 = two_body_from_frame(*tensors, MUON, MUON)
    n1, n2 = two_body_from_frame(*frame, MUON, MUON)
    for t, x in zip((*t1, *t2), (*n1, *n2), strict=True):
        assert isinstance(t, torch.Tensor)
        np.testing.assert_allclose(t.detach().numpy(), x, rtol=1e-12, atol=1e-9)
    mass = from_cartesian(*(u + v for u, v in zip(t1, t2, strict=True)))[3]
    mass.sum().backward()
    # The pair mass depends on the system mass only, with derivative 1.
    np.testing.assert_allclose(tensors[0].grad.numpy(), 1.0, rtol=1e-6)
    assert torch.allclose(tensors[4].grad, torch.zeros(n, dtype=torch.float64), atol=1e-6)
