"""The event representation: exact round trips, the coordinates learned, and refused configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from representation_events import MUON, RULES, dimuon, dimuon_events, jet_events

from hepgen.errors import HepgenError
from hepgen.preprocessing import Representation, Transform
from hepgen.preprocessing.kinematics import from_cartesian, to_cartesian


def jets(**extra) -> Representation:
    dataset = {"objects": [{"name": "jet", "max": 3, "min": 2}], **extra}
    return Representation.from_config(dataset)


def assert_tables_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if column.endswith("_phi"):
            delta = np.angle(np.exp(1j * (x - y)))
            np.testing.assert_allclose(delta, 0.0, atol=1e-9, err_msg=column)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=column)


def test_the_dimuon_coordinates() -> None:
    columns = list(dimuon_events(np.random.default_rng(0), 10).columns[:-1])
    assert dimuon().coordinates(columns) == [
        "ll_m", "ll_pt", "ll_y", "ll_phi", "ll_costheta", "ll_phistar",
        "ll1_charge", "ll2_charge", "met_para", "met_perp",
    ]  # fmt: skip
    assert dimuon("ptetaphie").coordinates(columns) == columns


def test_dimuon_round_trip_is_exact_and_keeps_the_charges_with_their_muons() -> None:
    table = dimuon_events(np.random.default_rng(1))
    physical = list(table.columns[:-1])
    rep = dimuon().fit(table)
    coords = rep.forward(table[physical])
    assert (coords["ll1_charge"] == -1).all() and (coords["ll2_charge"] == 1).all()
    assert_tables_close(rep.inverse(coords, physical), table[physical])
    pair = [
        to_cartesian(*(table[f"mu{k}_{f}"] for f in ("pt", "eta", "phi")), MUON) for k in (1, 2)
    ]
    mass = from_cartesian(*(a + b for a, b in zip(*pair, strict=True)))[3]
    np.testing.assert_allclose(coords["ll_m"], mass, rtol=1e-9)
    assert rep.energy_change["objects"] == 2 * len(table)
    assert rep.energy_change["max_relative"] < 1e-12  # the test muons already have the muon mass


def test_jets_round_trip_with_a_learned_mass_and_absent_slots() -> None:
    table = jet_events(np.random.default_rng(2))
    columns = list(table.columns)
    for rep in (jets(), jets(systems=[{"name": "jj", "objects": ["jet1", "jet2"]}])):
        coords = rep.fit(table).forward(table)
        assert_tables_close(rep.inverse(coords, columns), table)
        # an absent jet's coordinates are draws from the present jets' marginals, not zeros
        absent = (table["jet3_pt"] == 0).to_numpy()
        present_pt = table.loc[~absent, "jet3_pt"]
        filled = coords.loc[absent, "jet3_pt"]
        assert filled.between(present_pt.min(), present_pt.max()).all()
        assert filled.nunique() == absent.sum()
        assert (coords.loc[absent, "jet3_m"] > 0).all()
    assert "jj1_m" in coords and "jet3_m" in coords and "jet1_pt" not in coords


def test_optional_objects_are_a_multiplicity_plus_noise_and_never_reach_the_output() -> None:
    table = jet_events(np.random.default_rng(8)).drop(columns="n_jet")
    for slot in ("jet1", "jet2"):  # jets with min 0: any slot may be empty
        table.loc[table.index % 7 == 0, [f"{slot}_{f}" for f in ("pt", "eta", "phi", "e")]] = 0.0
    table = table[(table["jet1_pt"] > 0) | (table["jet2_pt"] == 0)].reset_index(drop=True)
    for c in ("jet2", "jet3"):
        table.loc[table["jet1_pt"] == 0, [f"{c}_{f}" for f in ("pt", "eta", "phi", "e")]] = 0.0
    rep = Representation.from_config({"objects": [{"name": "jet", "max": 3, "min": 0}]}, seed=3)
    columns = list(table.columns)
    transform = Transform.from_rules(columns, RULES, phi=None, representation=rep).fit(table)
    assert "n_jet" in transform.features and "n_jet" not in transform.columns
    x = transform.forward(table)
    assert np.isfinite(x).all()  # log pT of an absent jet is no longer -inf
    for k in (1, 2, 3):  # no spike: the filled pT take as many values as there are absent jets
        absent = table[f"jet{k}_pt"].to_numpy() == 0
        column = transform.features.index(f"jet{k}_pt")
        assert len(np.unique(x[absent, column])) == absent.sum() > 0
    back = transform.inverse(x)
    np.testing.assert_allclose(back.to_numpy(), table[columns].to_numpy(), rtol=1e-5, atol=1e-4)
    noise = np.random.default_rng(9).normal(0.0, 1.0, (3000, len(transform.features)))
    events = transform.inverse(noise.astype(np.float32))
    generated = noise[:, transform.features.index("n_jet")]
    for step in reversed(transform.chains["n_jet"]):
        generated = step.inverse(generated)
    count = np.clip(np.rint(generated), 0, 3)
    assert set(np.unique(count)) == {0.0, 1.0, 2.0, 3.0}
    for k in (1, 2, 3):  # slots beyond the generated multiplicity are exact zero padding
        cols = [f"jet{k}_{f}" for f in ("pt", "eta", "phi", "e")]
        assert (events.loc[count < k, cols] == 0).all().all()
        assert (events.loc[count >= k, f"jet{k}_pt"] > 0).all()


def test_fixed_mass_objects_are_physical_whatever_the_network_outputs() -> None:
    table = dimuon_events(np.random.default_rng(3), 2000)
    transform = Transform.from_rules(
        list(table.columns), RULES, phi={"reference": "auto"}, representation=dimuon()
    ).fit(table)
    assert transform.phi.reference == "ll_phi"
    assert "ll_phi" not in transform.features  # drawn uniformly
    assert transform.constants == {"ll1_charge": -1.0, "ll2_charge": 1.0}
    noise = np.random.default_rng(4).normal(0.0, 3.0, (5000, len(transform.features)))
    events = transform.inverse(noise.astype(np.float32))
    for k in (1, 2):
        pt, eta, e = (events[f"mu{k}_{f}"].to_numpy() for f in ("pt", "eta", "e"))
        assert np.all(e >= pt * np.cosh(eta) * (1 - 1e-12))  # up to rounding
    assert (events["mu1_pt"] >= events["mu2_pt"]).all()
    assert set(np.unique(events[["mu1_charge", "mu2_charge"]])) == {-1.0, 1.0}
    assert (events["mu1_charge"] + events["mu2_charge"] == 0).all()
    _, stats = transform.postprocess(events)
    assert stats["reasons"].get("negative_mass", 0) == 0


def test_transform_round_trip_through_the_network_inputs(tmp_path) -> None:
    table = dimuon_events(np.random.default_rng(5), 3000)
    transform = Transform.from_rules(
        list(table.columns),
        RULES,
        phi={"reference": "auto", "mode": "keep"},
        representation=dimuon(),
    ).fit(table)
    transform.save(tmp_path / "t.json")
    loaded = Transform.load(tmp_path / "t.json")
    x = loaded.forward(table)
    back = loaded.inverse(x.astype(np.float64).astype(np.float32))
    physical = list(table.columns[:-1])
    # float32 network inputs hold about 7 digits
    for column in physical:
        np.testing.assert_allclose(back[column], table[column], rtol=2e-5, atol=2e-4)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"systems": [{"name": "ll", "objects": ["mu1", "mu3"]}]}, r"'mu3' does not exist"),
        (
            {"objects": [{"name": "mu", "max": 2, "min": 1, "fields": {"charge": "q"}}]},
            r"'mu2' can be absent \(objects 'mu' min is 1\)",
        ),
        (
            {"objects": [{"name": "mu", "max": 2, "min": 2, "mass": -1.0}]},
            "mass must be >= 0",
        ),
        ({"met": {"pt": "met", "phi": "met_phi", "reference": "z"}}, "met.reference 'z'"),
        (
            {"objects": [{"name": "mu", "max": 2, "min": 2}]},
            "order 'charge' needs a 'charge' field",
        ),
        (
            {
                "systems": [
                    {"name": "ll", "objects": ["mu1", "mu2"]},
                    {"name": "l2", "objects": ["mu2", "mu1"]},
                ]
            },
            "already in system 'll'",
        ),
    ],
)
def test_bad_representations_name_the_key(change, match) -> None:
    with pytest.raises(HepgenError, match=match):
        dimuon(**change)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(HepgenError, match="preprocess.representation must be one of"):
        dimuon("ptetaphi")


def test_postprocess_removes_and_counts_the_events_no_metric_can_take() -> None:
    table = dimuon_events(np.random.default_rng(6), 2000)
    transform = Transform.from_rules(
        list(table.columns), RULES, phi={"reference": "auto"}, representation=dimuon()
    ).fit(table)
    noise = np.random.default_rng(7).normal(0.0, 2.5, (4000, len(transform.features)))
    events = transform.inverse(noise.astype(np.float32))
    events.loc[:9, "met"] = np.nan  # ten non-finite events
    repaired, stats = transform.postprocess(events)
    usable = transform.usable(repaired)
    assert usable.all() and np.isfinite(transform.forward(repaired)).all()
    # muons below the training threshold stay (every training event had both): usable, counted
    soft = (events[["mu1_pt", "mu2_pt"]].to_numpy() < 10.0).any(axis=1)
    assert soft[10:].sum() > 0 and stats["reasons"]["below_threshold"] >= soft[10:].sum()
    assert stats["removed"] == stats["reasons"]["unusable"] == len(events) - len(repaired) == 10
    assert stats["invalid"] >= stats["removed"]
    assert not transform.usable(events.iloc[:10]).any()


def test_four_vectors_run_on_torch_tensors_and_agree_with_numpy() -> None:
    import torch

    table = dimuon_events(np.random.default_rng(10), 500)
    physical = list(table.columns[:-1])
    rep = dimuon().fit(table)
    coords = rep.forward(table[physical])
    arrays = {c: coords[c].to_numpy() for c in coords.columns}
    tensors = {c: torch.tensor(v, requires_grad=c == "ll_m") for c, v in arrays.items()}
    expected, got = rep.four_vectors(arrays), rep.four_vectors(tensors)
    assert set(got) == {"ll1", "ll2"}
    for key in got:
        for t, x in zip(got[key], expected[key], strict=True):
            np.testing.assert_allclose(t.detach().numpy(), x, rtol=1e-12, atol=1e-9)
    pair = [a + b for a, b in zip(got["ll1"], got["ll2"], strict=True)]
    mass = from_cartesian(*pair)[3]
    mass.sum().backward()  # the pair mass is the system mass: d m / d ll_m = 1
    np.testing.assert_allclose(tensors["ll_m"].grad.numpy(), 1.0, rtol=1e-6)
    # the first daughter is the negative muon (order: charge)
    negative = np.where(table["mu1_charge"] < 0, table["mu1_pt"], table["mu2_pt"])
    np.testing.assert_allclose(from_cartesian(*expected["ll1"])[0], negative, rtol=1e-9)


def test_folded_system_coordinates_are_counted_not_silent(caplog) -> None:
    """A generated mass below 0 or |cos θ| above 1 is rebuilt (|m|, cos θ = ±1) and logged."""
    table = dimuon_events(np.random.default_rng(11), 300)
    rep = dimuon().fit(table)
    coords = rep.forward(table[list(table.columns[:-1])])
    arrays = {c: coords[c].to_numpy().copy() for c in coords.columns}
    arrays["ll_costheta"][:3] = [1.2, -1.5, 1.0 + 1e-9]
    arrays["ll_m"][10:12] *= -1.0
    with caplog.at_level("WARNING", logger="hepgen.preprocessing.representation"):
        vectors = rep.four_vectors(arrays)
    assert "2 of 300 events have a negative mass" in caplog.text
    assert "3 have |cos θ| > 1" in caplog.text
    pair = [a + b for a, b in zip(vectors["ll1"], vectors["ll2"], strict=True)]
    np.testing.assert_allclose(from_cartesian(*pair)[3][10:12], -arrays["ll_m"][10:12])
    caplog.clear()
    rep.four_vectors({c: coords[c].to_numpy() for c in coords.columns})  # the truth's own
    assert "negative mass" not in caplog.text


def test_a_field_no_rule_names_is_learned_as_discrete() -> None:
    table = jet_events(np.random.default_rng(11))
    tagged = np.random.default_rng(12).random((len(table), 3)) < 0.3
    for k in (1, 2, 3):
        table[f"jet{k}_btag"] = np.where(table[f"jet{k}_pt"] > 0, tagged[:, k - 1], 0.0)
    rep = jets(objects=[{"name": "jet", "max": 3, "min": 2, "fields": {"btag": "jet_btag"}}])
    catch_all = [
        {"match": "*_pt", "chain": ["log", "standard"]},
        {"match": "*", "chain": ["standard"]},
    ]
    transform = Transform.from_rules(list(table.columns), catch_all, phi=None, representation=rep)
    transform.fit(table)
    assert [type(s).__name__ for s in transform.chains["jet1_btag"]] == ["Discrete", "Standard"]
    assert [type(s).__name__ for s in transform.chains["jet1_eta"]] == ["Standard"]
    noise = np.random.default_rng(13).normal(0.0, 1.0, (2000, len(transform.features)))
    generated = transform.inverse(noise.astype(np.float32))
    present = generated["jet1_pt"] > 0
    assert set(np.unique(generated.loc[present, "jet1_btag"])) == {0.0, 1.0}


@pytest.mark.parametrize(
    ("reference", "expected"), [("auto", "ll_phi"), ("mu2_phi", "ll_phi"), ("ll", "ll_phi")]
)
def test_the_phi_reference_may_name_a_daughter_or_system(reference: str, expected: str) -> None:
    table = dimuon_events(np.random.default_rng(14), 500)
    transform = Transform.from_rules(
        list(table.columns), RULES, phi={"reference": reference}, representation=dimuon()
    )
    assert transform.phi.reference == expected


def test_an_unknown_phi_reference_names_the_angles_there_are() -> None:
    table = dimuon_events(np.random.default_rng(15), 500)
    with pytest.raises(HepgenError, match=r"preprocess.phi.reference 'jet1_phi' is not a column"):
        Transform.from_rules(
            list(table.columns), RULES, phi={"reference": "jet1"}, representation=dimuon()
        )
