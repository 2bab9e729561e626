"""Pairs datasets (one row per gen object with its reco response) and their reassembly."""

from __future__ import annotations

import logging
from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import vector
import yaml
from ntuples import write_tree

from hepgen.config import validate_config
from hepgen.errors import HepgenError
from hepgen.io import PAIR_COLUMNS, DatasetSpec, ingest, ingest_to_parquet, reassemble
from hepgen.preprocessing.angles import wrap_phi

# Four hand-made events. Event 0: two gen leptons matched, one below 15 GeV; event 1: one gen
# lepton not reconstructed; event 2: no gen lepton, one fake reco lepton; event 3: a gen lepton
# outside |eta| < 2.5 and one matched lepton.
GEN = {
    "pt": [[50.0, 30.0, 10.0], [20.0], [], [40.0, 25.0]],
    "eta": [[0.5, -1.0, 2.0], [0.0], [], [3.0, 1.0]],
    "phi": [[0.1, 3.0, 0.0], [-1.0], [], [0.0, 1.0]],
}
RECO = {
    "pt": [[45.0, 33.0], [], [25.0], [27.5]],
    "eta": [[0.52, -1.1], [], [1.0], [1.05]],
    "phi": [[0.12, -3.1], [], [1.0], [0.9]],
}
GEN_TO_RECO = [[0, 1, -1], [-1], [], [-1, 0]]
RECO_TO_GEN = [[0, 1], [], [-1], [1]]
WEIGHT = [1.5, 2.0, 3.0, 0.5]
# Rows by hand: (gen pt, eta, phi, found, response, deta, dphi), weight.
EXPECTED = [
    (50.0, 0.5, 0.1, 1.0, 45.0 / 50.0, 0.52 - 0.5, 0.12 - 0.1),
    (30.0, -1.0, 3.0, 1.0, 33.0 / 30.0, -1.1 + 1.0, -3.1 - 3.0 + 2 * np.pi),
    (20.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0),
    (25.0, 1.0, 1.0, 1.0, 27.5 / 25.0, 1.05 - 1.0, 0.9 - 1.0),
]
EXPECTED_WEIGHT = [1.5, 1.5, 2.0, 0.5]
GEN_SIDE = {"prefix": "gen_lep_", "kinematics": "ptetaphie", "min_pt": 15.0, "max_abs_eta": 2.5}


def _with_energy(fields: dict) -> dict:
    v = vector.zip({"pt": fields["pt"], "eta": fields["eta"], "phi": fields["phi"], "mass": 0.0})
    return {k: ak.Array(x) for k, x in fields.items()} | {"e": v.E}


def _lepton_file(path, gen, reco, gen_to_reco=None, reco_to_gen=None, **extra):
    """The built-in simulation's layout: ``gen_lep_{pt,eta,phi,e,reco}``, ``lep_{pt,eta,phi,e,gen}``."""
    gen = _with_energy(gen) | (
        {"reco": ak.values_astype(ak.Array(gen_to_reco), np.int32)}
        if gen_to_reco is not None
        else {}
    )
    reco = _with_energy(reco) | (
        {"gen": ak.values_astype(ak.Array(reco_to_gen), np.int32)}
        if reco_to_gen is not None
        else {}
    )
    return write_tree(path, {"gen_lep": ak.zip(gen), "lep": ak.zip(reco), **extra})


def _spec(path, points="gen_to_reco", branch=None, **entry):
    branch = branch or ("gen_lep_reco" if points == "gen_to_reco" else "lep_gen")
    pairs = {
        "gen": GEN_SIDE,
        "reco": {"prefix": "lep_", "kinematics": "ptetaphie"},
        "match": {"branch": branch, "points": points},
    }
    return DatasetSpec.from_config({"files": [str(path)], "pairs": pairs, **entry})


def _hand_file(tmp_path):
    return _lepton_file(
        tmp_path / "pairs.root", GEN, RECO, GEN_TO_RECO, RECO_TO_GEN,
        weight=np.array(WEIGHT), run=np.array([1.0, 2.0, 3.0, 4.0]),
    )  # fmt: skip


@pytest.mark.parametrize("points", ["gen_to_reco", "reco_to_gen"])
def test_rows_match_hand_computed_values(tmp_path, points):
    path = _hand_file(tmp_path)
    table, stats = ingest(_spec(path, points, weight="weight", scalars=["run"]))
    assert list(table.columns) == [*PAIR_COLUMNS, "run", "weight"]
    assert len(table) == 4 and stats["events"] == 4 and stats["entries"] == 4
    np.testing.assert_allclose(table[list(PAIR_COLUMNS)].to_numpy(), EXPECTED, rtol=0, atol=1e-12)
    assert table["weight"].tolist() == EXPECTED_WEIGHT
    assert table["run"].tolist() == [1.0, 1.0, 2.0, 4.0]
    assert stats["pairs"] == {"gen objects": 4, "unmatched": 1, "ambiguous": 0}


def test_unmatched_objects_are_counted_and_logged(tmp_path, caplog):
    path = _hand_file(tmp_path)
    with caplog.at_level(logging.INFO, logger="hepgen.io.pair_columns"):
        table, _ = ingest(_spec(path))
    unmatched = table[table["reco_found"] == 0]
    assert unmatched[["reco_response", "reco_deta", "reco_dphi"]].to_numpy().tolist() == [
        [1.0, 0.0, 0.0]
    ]
    assert (
        "4 gen objects" in caplog.text and "1 (25.00%) have no selected reco match" in caplog.text
    )


def test_reco_selection_makes_a_match_unfound(tmp_path):
    path = _hand_file(tmp_path)
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "pairs": {
                "gen": GEN_SIDE,
                "reco": {"prefix": "lep_", "min_pt": 40.0},
                "match": {"branch": "gen_lep_reco"},
            },
        }
    )
    table, _ = ingest(spec)
    assert table["reco_found"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert table["reco_response"].tolist()[1:] == [1.0, 1.0, 1.0]


def test_one_step_per_entry_gives_the_same_table(tmp_path):
    path = _hand_file(tmp_path)
    whole, _ = ingest(_spec(path, weight="weight"))
    stepped, _ = ingest(_spec(path, weight="weight"), step_size=1)
    pd.testing.assert_frame_equal(whole, stepped)
    written = tmp_path / "events.parquet"
    ingest_to_parquet(_spec(path, weight="weight"), written)
    pd.testing.assert_frame_equal(pd.read_parquet(written), whole)


def test_nanoaod_reco_to_gen_with_pdgid_selection(tmp_path):
    """NanoAOD: ``Muon_genPartIdx`` points into all of ``GenPart``; muons are selected by
    |pdgId| = 13, and of two reco muons pointing to one gen muon the harder one is its match."""
    genpart = {
        "pt": [[60.0, 35.0, 80.0], [22.0, 5.0]],
        "eta": [[0.1, -0.4, 1.2], [0.3, 0.0]],
        "phi": [[0.5, -2.0, 2.5], [1.0, 0.0]],
        "mass": [[0.10566, 0.10566, 0.0], [0.10566, 0.0]],
        "pdgId": [[13, -13, 21], [-13, 22]],
    }
    muon = {
        "pt": [[58.0, 20.0, 36.0], [21.0]],
        "eta": [[0.11, -0.4, -0.41], [0.31]],
        "phi": [[0.52, -2.0, -2.01], [1.02]],
        "mass": [[0.10566] * 3, [0.10566]],
        "genPartIdx": [[0, 1, 1], [0]],
    }
    typed = {"pdgId": np.int32, "genPartIdx": np.int16}
    zipped = {
        name: ak.zip(
            {k: ak.values_astype(ak.Array(v), typed.get(k, np.float32)) for k, v in c.items()}
        )
        for name, c in (("GenPart", genpart), ("Muon", muon))
    }
    path = write_tree(tmp_path / "nano.root", zipped, tree="Events")
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "tree": "Events",
            "pairs": {
                "gen": {
                    "prefix": "GenPart_",
                    "kinematics": "ptetaphim",
                    "select": {"GenPart_pdgId": [13]},
                },
                "reco": {"prefix": "Muon_", "kinematics": "ptetaphim"},
                "match": {"branch": "Muon_genPartIdx", "points": "reco_to_gen"},
            },
        }
    )
    table, stats = ingest(spec)

    def f32(x):  # a float32 branch value, computed with in float64
        return np.float64(np.float32(x))

    np.testing.assert_allclose(table["gen_pt"], [60.0, 35.0, 22.0])
    np.testing.assert_allclose(
        table["reco_response"],
        [f32(58.0) / f32(60.0), f32(36.0) / f32(35.0), f32(21.0) / f32(22.0)],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        table["reco_deta"],
        [f32(0.11) - f32(0.1), f32(-0.41) - f32(-0.4), f32(0.31) - f32(0.3)],
        rtol=1e-12,
    )
    assert stats["pairs"]["ambiguous"] == 1  # the 20 GeV muon lost gen muon 1 to the 36 GeV one


def _round_trip_file(tmp_path, rng, n=400):
    """Random events: each gen object reconstructed with probability 0.8, smeared; the reco
    collection holds the found ones in random order, and the match is written both ways."""
    counts = rng.integers(0, 5, size=n)
    total = int(counts.sum())
    gen = {
        "pt": rng.exponential(30.0, total) + 5.0,
        "eta": rng.uniform(-2.4, 2.4, total),
        "phi": rng.uniform(-np.pi, np.pi, total),
    }
    found = rng.random(total) < 0.8
    reco_flat = {
        "pt": gen["pt"] * rng.normal(1.0, 0.1, total),
        "eta": gen["eta"] + rng.normal(0.0, 0.02, total),
        "phi": wrap_phi(gen["phi"] + rng.normal(0.0, 0.02, total)),
    }
    event = np.repeat(np.arange(n), counts)
    n_reco = np.bincount(event[found], minlength=n)
    # reco objects of each event in a random order: position of each found gen object
    shuffle = np.lexsort((rng.random(int(found.sum())), event[found]))
    local_gen = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    reco_start = np.repeat(np.cumsum(n_reco) - n_reco, n_reco)
    position = np.empty(int(found.sum()), dtype=np.int64)
    position[shuffle] = np.arange(int(found.sum())) - reco_start
    gen_to_reco = np.full(total, -1)
    gen_to_reco[found] = position
    reco_sorted = {k: np.empty(int(found.sum())) for k in reco_flat}
    reco_to_gen = np.empty(int(found.sum()), dtype=np.int64)
    for k, v in reco_flat.items():
        reco_sorted[k][reco_start + position] = v[found]
    reco_to_gen[reco_start + position] = local_gen[found]
    gen_j = {k: ak.unflatten(v, counts) for k, v in gen.items()}
    reco_j = {k: ak.unflatten(v, n_reco) for k, v in reco_sorted.items()}
    path = _lepton_file(
        tmp_path / "random.root", gen_j, reco_j,
        ak.unflatten(gen_to_reco, counts), ak.unflatten(reco_to_gen, n_reco),
    )  # fmt: skip
    return path, gen_j, reco_j


@pytest.mark.parametrize("points", ["gen_to_reco", "reco_to_gen"])
def test_reassemble_rebuilds_the_reco_collection(tmp_path, rng, points):
    path, gen, reco = _round_trip_file(tmp_path, rng)
    pairs = {
        "gen": {"prefix": "gen_lep_"},
        "reco": {"prefix": "lep_"},
        "match": {
            "branch": "gen_lep_reco" if points == "gen_to_reco" else "lep_gen",
            "points": points,
        },
    }
    table, _ = ingest(DatasetSpec.from_config({"files": [str(path)], "pairs": pairs}))
    assert 0 < (table["reco_found"] == 0).sum() < len(table)
    gen_events = ak.zip(_with_energy(gen), with_name="Momentum4D")
    rebuilt = reassemble(gen_events, table)
    order = ak.argsort(reco["pt"], ascending=False)
    assert ak.num(rebuilt).tolist() == ak.num(reco["pt"]).tolist()
    for f in ("pt", "eta", "phi"):
        got, want = ak.flatten(rebuilt[f]).to_numpy(), ak.flatten(reco[f][order]).to_numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.all(ak.flatten(rebuilt.pt[:, :-1] >= rebuilt.pt[:, 1:]))
    # the gen mass (0) comes back from E and |p|: sqrt(E^2 - p^2) keeps ~sqrt(eps) of E
    assert np.all(ak.flatten(rebuilt.mass / rebuilt.E).to_numpy() < 1e-7)
    assert isinstance(rebuilt.deltaR(rebuilt), ak.Array)  # vector behaviour


def test_reassemble_without_energy_gives_3d_vectors_and_drops_unfound():
    gen = ak.Array(
        [[{"pt": 10.0, "eta": 0.0, "phi": 3.0}, {"pt": 20.0, "eta": 1.0, "phi": 0.0}], []]
    )
    generated = {
        "reco_found": [1.0, 0.0],
        "reco_response": [1.5, 1.0],
        "reco_deta": [0.1, 0.0],
        "reco_dphi": [0.3, 0.0],
    }
    rebuilt = reassemble(gen, generated)
    assert rebuilt.pt.tolist() == [[15.0], []]
    np.testing.assert_allclose(rebuilt.phi[0, 0], 3.3 - 2 * np.pi)
    assert ak.parameters(rebuilt[0])["__record__"] == "Momentum3D"


def test_reassemble_refuses_a_row_count_mismatch():
    gen = ak.Array([[{"pt": 10.0, "eta": 0.0, "phi": 0.0}]])
    with pytest.raises(HepgenError, match="has .* rows, but gen_events holds 1 objects"):
        reassemble(
            gen,
            dict.fromkeys(("reco_found", "reco_response", "reco_deta", "reco_dphi"), [1.0, 1.0]),
        )
    with pytest.raises(HepgenError, match=r"lacks columns \['reco_dphi'\]"):
        reassemble(gen, dict.fromkeys(("reco_found", "reco_response", "reco_deta"), [1.0]))


# ---- bad input ------------------------------------------------------------------------------


def test_match_counts_differing_from_the_gen_collection(tmp_path):
    bad = ak.values_astype(ak.Array([[0, 1, -1], [], [], [-1, 0]]), np.int32)  # entry 1: 0 of 1
    path = _lepton_file(tmp_path / "bad.root", GEN, RECO, gen_lep_reco=bad)
    with pytest.raises(HepgenError) as err:
        ingest(_spec(path))
    message = str(err.value)
    for part in ("bad.root", "tree 'events'", "'gen_lep_reco'", "pairs.match (gen_to_reco)",
                 "holds 0 values in entry 1", "one per object of 'gen_lep_pt', which holds 1"):  # fmt: skip
        assert part in message, message


def test_match_counts_differing_from_the_reco_collection(tmp_path):
    bad = ak.values_astype(ak.Array([[0, 1], [], [-1], [1, 0]]), np.int64)  # entry 3: 2 of 1
    path = _lepton_file(tmp_path / "bad.root", GEN, RECO, lep_gen=bad)
    with pytest.raises(
        HepgenError,
        match=r"'lep_gen' \(pairs.match \(reco_to_gen\)\) holds 2 values in entry 3, but needs one per object of 'lep_pt', which holds 1",
    ):
        ingest(_spec(path, "reco_to_gen"))


@pytest.mark.parametrize(
    ("points", "index", "message"),
    [
        ("gen_to_reco", [[0, 2, -1], [-1], [], [-1, 0]], "holds index 2 in entry 0, where pairs.reco has 2 objects: an index must be -1 (no match) or 0..1"),
        ("gen_to_reco", [[0, 1, -1], [-1], [], [-1, -2]], "holds index -2 in entry 3, where pairs.reco has 1 objects"),
        ("reco_to_gen", [[0, 1], [], [-1], [2]], "holds index 2 in entry 3, where pairs.gen has 2 objects"),
    ],
)  # fmt: skip
def test_match_index_out_of_range(tmp_path, points, index, message):
    if points == "gen_to_reco":
        path = _lepton_file(tmp_path / "bad.root", GEN, RECO, index, RECO_TO_GEN)
    else:
        path = _lepton_file(tmp_path / "bad.root", GEN, RECO, GEN_TO_RECO, index)
    with pytest.raises(HepgenError) as err:
        ingest(_spec(path, points))
    assert message in str(err.value) and "bad.root" in str(err.value)


def test_match_branch_of_floats_is_refused_before_reading(tmp_path):
    floats = ak.Array([[0.0, 1.0, -1.0], [-1.0], [], [-1.0, 0.0]])
    path = _lepton_file(tmp_path / "bad.root", GEN, RECO, gen_lep_reco=floats)
    with pytest.raises(
        HepgenError,
        match=r"bad.root'?, tree 'events': branch 'gen_lep_reco' is jagged var \* float64, but as pairs.match \(gen_to_reco\) it must be jagged var \* int",
    ):
        ingest(_spec(path))


def test_gen_field_counts_differing(tmp_path):
    path = _lepton_file(
        tmp_path / "bad.root", GEN, RECO, GEN_TO_RECO, gen_lep_x=ak.Array([[1.0], [], [], []])
    )
    pairs = {
        "gen": {
            "branches": {
                "pt": "gen_lep_pt",
                "eta": "gen_lep_x",
                "phi": "gen_lep_phi",
                "e": "gen_lep_e",
            }
        },
        "reco": {"prefix": "lep_"},
        "match": {"branch": "gen_lep_reco"},
    }
    with pytest.raises(
        HepgenError, match="'gen_lep_x' \\(pairs.gen field 'eta'\\) holds 1 values in entry 0"
    ):
        ingest(DatasetSpec.from_config({"files": [str(path)], "pairs": pairs}))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"objects": [{"name": "mu", "prefix": "lep_", "max": 2}]}, r"'pairs' .* cannot be combined with \['objects'\]"),
        ({"met": {"pt": "met", "phi": "met_phi"}}, r"cannot be combined with \['met'\]"),
        ({"systems": [{"name": "ll", "objects": ["mu1", "mu2"]}]}, r"cannot be combined with \['systems'\]"),
    ],
)  # fmt: skip
def test_pairs_with_objects_is_a_config_error(entry, message):
    pairs = {"gen": GEN_SIDE, "reco": {"prefix": "lep_"}, "match": {"branch": "gen_lep_reco"}}
    with pytest.raises(HepgenError, match=message):
        DatasetSpec.from_config({"files": ["x.root"], "pairs": pairs, **entry})


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ({"gen": GEN_SIDE, "reco": {"prefix": "lep_"}}, r"missing \['match'\]"),
        ({"gen": GEN_SIDE, "reco": {"prefix": "lep_"}, "match": {"branch": "m", "points": "both"}}, "pairs.match.points must be one of"),
        ({"gen": GEN_SIDE, "reco": {"prefix": "gen_lep_"}, "match": {"branch": "m"}}, "both read branches"),
        ({"gen": {"kinematics": "ptetaphie"}, "reco": {"prefix": "lep_"}, "match": {"branch": "m"}}, "pairs.gen: give a branch 'prefix'"),
        ({"gen": {"prefix": "g_", "max": 2}, "reco": {"prefix": "lep_"}, "match": {"branch": "m"}}, r"pairs.gen: unexpected keys \['max'\]"),
        ({"gen": {"prefix": "g_", "select": {"g_pdgId": [13.5]}}, "reco": {"prefix": "lep_"}, "match": {"branch": "m"}}, "pairs.gen.select.g_pdgId: needs a list of integers"),
    ],
)  # fmt: skip
def test_bad_pairs_config(pairs, message):
    with pytest.raises(HepgenError, match=message):
        DatasetSpec.from_config({"files": ["x.root"], "pairs": pairs})


def test_scalar_named_like_a_pair_column_is_refused():
    pairs = {"gen": GEN_SIDE, "reco": {"prefix": "lep_"}, "match": {"branch": "gen_lep_reco"}}
    with pytest.raises(HepgenError, match="column 'gen_pt' by both pairs and scalars"):
        DatasetSpec.from_config({"files": ["x.root"], "pairs": pairs, "scalars": ["gen_pt"]})


def test_the_config_schema_takes_pairs():
    schema = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
    config = yaml.safe_load((schema.parents[2] / "config" / "config.yaml").read_text())
    pairs = {"gen": GEN_SIDE, "reco": {"prefix": "lep_"}, "match": {"branch": "gen_lep_reco"}}
    config["datasets"] = {"fastsim": {"files": ["x.root"], "pairs": pairs, "weight": "weight"}}
    validate_config(config, schema)
    pairs["match"]["points"] = "sideways"
    with pytest.raises(HepgenError, match="config key datasets.fastsim.pairs.match.points"):
        validate_config(config, schema)


def test_generated_unmatched_objects_take_the_truths_response_convention():
    """A generated object rounded to not reconstructed gets the unmatched response (1, 0, 0),
    as in the truth, whatever the model drew for it; reconstructed ones are untouched."""
    import pandas as pd

    from hepgen.io.pairs import UNMATCHED, with_unmatched_response

    table = pd.DataFrame(
        {
            "gen_pt": [30.0, 40.0, 50.0],
            "reco_found": [1.0, 0.0, 0.3],
            "reco_response": [1.02, 0.97, 1.10],
            "reco_deta": [0.001, -0.02, 0.05],
            "reco_dphi": [-0.001, 0.03, 0.2],
        }
    )
    out = with_unmatched_response(table)
    assert out.loc[0].to_dict() == table.loc[0].to_dict()
    for row in (1, 2):
        assert {c: out.loc[row, c] for c in UNMATCHED} == UNMATCHED
    assert table.loc[1, "reco_response"] == 0.97  # the input is not changed
    no_pairs = pd.DataFrame({"mu1_pt": [1.0]})
    assert with_unmatched_response(no_pairs) is no_pairs
