"""cos θ* learned within the range the daughters' selection allows: exact, inside, differentiable."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from representation_events import MUON, RULES, dimuon, dimuon_events

from hepgen.preprocessing import Representation, Transform
from hepgen.preprocessing.kinematics import from_cartesian, two_body_from_frame
from hepgen.preprocessing.support import ODDS_MAX, from_log_odds, to_log_odds

CUTS = (20.0, 2.4)


def passes(frame, cos_theta, masses, cuts, *, float32: bool = True) -> np.ndarray:
    """Both daughters inside the cuts, compared as a written (float32) ntuple holds them."""
    m, pt, y, phi_star = frame
    ok = np.ones(len(cos_theta), dtype=bool)
    for d in two_body_from_frame(m, pt, y, 0.0 * m, cos_theta, phi_star, *masses):
        dpt, deta = from_cartesian(*d)[:2]
        if float32:
            dpt, deta = dpt.astype(np.float32), deta.astype(np.float32)
        ok &= (dpt > cuts[0]) & (np.abs(deta) < cuts[1])
    return ok


def frames(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Broad two-body kinematics: masses 1 GeV–3 TeV, pT to ~1 TeV, |y| to ~5."""
    m = np.exp(rng.uniform(0.0, np.log(3000.0), n))
    return m, rng.exponential(80.0, n), rng.normal(0.0, 1.8, n), rng.uniform(-np.pi, np.pi, n)


@settings(max_examples=300, deadline=None)
@given(
    m=st.floats(0.5, 3000.0),
    pt=st.one_of(st.just(0.0), st.floats(1e-3, 2000.0)),
    y=st.floats(-5.0, 5.0),
    phi_star=st.floats(-np.pi, np.pi),
    cos_theta=st.floats(-1.0, 1.0),
    masses=st.sampled_from([(MUON, MUON), (0.0, 0.0), (0.0, 4.7), (80.4, 4.7)]),
    cuts=st.sampled_from([CUTS, (0.0, 2.5), (25.0, np.inf), (5.0, 5.0)]),
)
def test_the_round_trip_is_exact_inside_the_allowed_set(
    m, pt, y, phi_star, cos_theta, masses, cuts
) -> None:
    frame = tuple(np.array([v]) for v in (m, pt, y, phi_star))
    c = np.array([cos_theta])
    if m <= sum(masses) or not passes(frame, c, masses, cuts, float32=False)[0]:
        return  # not an event the selection keeps
    odds, missed = to_log_odds(c, frame, masses, cuts)
    assert np.isfinite(odds).all() and np.abs(odds).max() <= ODDS_MAX
    if missed[0]:
        return  # an allowed sliver narrower than a grid cell (counted: see the next test)
    back, empty = from_log_odds(odds, frame, masses, cuts)
    assert not empty[0]
    assert abs(back[0] - cos_theta) < 1e-12


def test_every_finite_log_odds_gives_daughters_inside_the_selection() -> None:
    rng = np.random.default_rng(0)
    frame = frames(rng, 40_000)
    odds = np.concatenate(
        [rng.normal(0.0, 5.0, 39_990), [-1e3, 1e3, -40, 40, -36, 36, 0, 0, 1, -1]]
    )
    cos_theta, empty = from_log_odds(odds, frame, (MUON, MUON), CUTS)
    assert np.all(np.abs(cos_theta) <= 1.0)
    ok = passes(frame, cos_theta, (MUON, MUON), CUTS)
    assert (cos_theta[empty] == 0.0).all() and not ok[empty].any()  # nothing allowed: counted
    assert 0.05 < empty.mean() < 0.95  # the broad frames hold both kinds
    failed = ~ok & ~empty
    assert failed.sum() <= 4e-4 * (~empty).sum()  # allowed slivers narrower than a grid cell
    plain = rng.uniform(-1.0, 1.0, len(odds))  # the same frames with cos θ* drawn plainly
    assert (~passes(frame, plain, (MUON, MUON), CUTS) & ~empty).mean() > 0.1


def test_the_truth_of_a_selected_sample_is_never_missed_and_its_odds_are_moderate() -> None:
    rng = np.random.default_rng(1)
    m = np.abs(91.19 + 2.5 * rng.standard_cauchy(60_000)).clip(60.0, 400.0)
    frame = (
        m,
        rng.exponential(15.0, m.size),
        rng.normal(0.0, 1.5, m.size),
        rng.uniform(-3, 3, m.size),
    )
    c = rng.uniform(-1.0, 1.0, m.size)
    keep = passes(frame, c, (MUON, MUON), CUTS, float32=False)
    frame, c = tuple(a[keep] for a in frame), c[keep]
    odds, missed = to_log_odds(c, frame, (MUON, MUON), CUTS)
    assert not missed.any()
    assert np.abs(odds).max() < 20.0  # uniform in the allowed set: no event piles at its edges
    back, _ = from_log_odds(odds, frame, (MUON, MUON), CUTS)
    np.testing.assert_allclose(back, c, rtol=0, atol=1e-12)


def test_torch_agrees_with_numpy_and_carries_the_gradient_of_the_odds() -> None:
    import torch

    rng = np.random.default_rng(2)
    frame = frames(rng, 3000)
    odds = rng.normal(0.0, 3.0, 3000)
    expected, empty = from_log_odds(odds, frame, (MUON, MUON), CUTS)
    tensors = tuple(torch.tensor(a) for a in frame)
    t_odds = torch.tensor(odds, requires_grad=True)
    got, t_empty = from_log_odds(t_odds, tensors, (MUON, MUON), CUTS)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=0, atol=1e-12)
    assert (t_empty == empty).all()
    got.sum().backward()
    grad = t_odds.grad.numpy()
    assert np.all(grad[~empty] > 0.0)  # cos θ* rises with the odds wherever anything is allowed
    assert np.all(grad[empty] == 0.0)
    back, _ = to_log_odds(got.detach(), tensors, (MUON, MUON), CUTS)
    np.testing.assert_allclose(
        back.numpy()[~empty], np.clip(odds, -ODDS_MAX, ODDS_MAX)[~empty], atol=1e-6
    )


def selected(kind: str = "support") -> Representation:
    rep = dimuon(objects=[{"name": "mu", "max": 2, "min": 2, "mass": MUON, "min_pt": 20.0,
                           "max_abs_eta": 2.4, "fields": {"charge": "lep_charge"}}])  # fmt: skip
    rep.systems = [rep.systems[0].__class__("ll", ("mu1", "mu2"), "charge", kind)]
    return rep


def test_a_system_with_a_selection_generates_events_that_pass_it(caplog) -> None:
    table = dimuon_events(np.random.default_rng(3), 3000)
    physical = list(table.columns[:-1])
    outside = {}
    for kind in ("support", "plain"):
        transform = Transform.from_rules(
            list(table.columns), RULES, phi={"reference": "auto"}, representation=selected(kind)
        ).fit(table)
        rep = transform.representation
        assert rep.support_cuts(rep.systems[0]) == (CUTS if kind == "support" else None)
        back = rep.inverse(rep.forward(table[physical]), physical)
        pd.testing.assert_frame_equal(back, table[physical], rtol=1e-9, atol=1e-9)
        noise = np.random.default_rng(4).normal(0.0, 1.0, (20_000, len(transform.features)))
        caplog.clear()
        with caplog.at_level("WARNING", logger="hepgen.preprocessing.representation"):
            events = transform.inverse(noise.astype(np.float32))
        inside = np.ones(len(events), dtype=bool)
        for k in (1, 2):
            pt, eta = (events[f"mu{k}_{f}"].to_numpy().astype(np.float32) for f in ("pt", "eta"))
            inside &= (pt > 20.0) & (np.abs(eta) < 2.4)
        outside[kind] = (~inside).sum()
        if kind == "support":  # only the events whose (m, pT, y, φ*) allow no cos θ* fail
            found = re.search(r"'ll': (\d+) of 20000 events allow no cos θ\*", caplog.text)
            empty = int(found.group(1))
            assert 0 < empty < 0.1 * len(events)
            assert empty <= outside[kind] <= empty + 1e-3 * len(events)
    assert outside["plain"] > 3 * outside["support"]


def test_data_outside_the_named_selection_learn_cos_theta_as_is(caplog) -> None:
    table = dimuon_events(np.random.default_rng(5), 2000)
    table.loc[:99, "mu2_pt"] = 12.0  # 5 % below the min_pt the config names
    table.loc[:99, "mu2_e"] = np.hypot(12.0 * np.cosh(table.loc[:99, "mu2_eta"]), MUON)
    rep = selected()
    with caplog.at_level("WARNING", logger="hepgen.preprocessing.representation"):
        rep.fit(table)
    assert re.search(r"'ll': 10[0-2] of 2000 training events have cos θ\* outside", caplog.text)
    assert "objects 'mu' (min_pt 20 GeV, max_abs_eta 2.4)" in caplog.text
    assert rep.systems[0].costheta == "plain" and rep.support_cuts(rep.systems[0]) is None
    assert Representation.from_dict(rep.to_dict()).systems[0].costheta == "plain"


def test_a_representation_saved_without_a_selection_loads_unchanged() -> None:
    saved = selected().to_dict()
    for c in saved["collections"]:
        del c["min_pt"], c["max_abs_eta"]
    for s in saved["systems"]:
        del s["costheta"]
    rep = Representation.from_dict(saved)
    assert rep.support_cuts(rep.systems[0]) is None


def test_an_unknown_costheta_is_refused() -> None:
    from hepgen.errors import HepgenError

    with pytest.raises(HepgenError, match="systems 'll': costheta must be one of"):
        dimuon(systems=[{"name": "ll", "objects": ["mu1", "mu2"], "costheta": "flat"}])
