"""Ingestion of flat, jagged polar, jagged Cartesian and NanoAOD-style ntuples."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot
import vector
from ntuples import random_objects, write_tree

from hepgen.errors import HepgenError
from hepgen.io import DatasetSpec, ingest, ingest_to_parquet, iter_columns
from hepgen.io.roles import Role, describe


def _jagged_files(tmp_path, rng, n=300):
    obj = random_objects(rng, n)
    v = vector.zip({"pt": obj["pt"], "eta": obj["eta"], "phi": obj["phi"], "mass": obj["mass"]})
    met = {"met": rng.exponential(20.0, n), "met_phi": rng.uniform(-np.pi, np.pi, n)}
    polar = write_tree(
        tmp_path / "polar.root",
        {
            "jet": ak.zip({"pt": v.pt, "eta": v.eta, "phi": v.phi, "e": v.E}),
            **met,
            "weight": np.ones(n),
        },
    )
    cartesian = write_tree(
        tmp_path / "cartesian.root",
        {
            "jet": ak.zip({"px": v.px, "py": v.py, "pz": v.pz, "e": v.E}),
            "met_px": met["met"] * np.cos(met["met_phi"]),
            "met_py": met["met"] * np.sin(met["met_phi"]),
            "weight": np.ones(n),
        },
    )
    return polar, cartesian, obj


def _spec(path, kinematics, met, **obj):
    entry = {"name": "jet", "prefix": "jet_", "kinematics": kinematics, "max": 3, **obj}
    return DatasetSpec.from_config(
        {"files": [str(path)], "objects": [entry], "met": met, "weight": "weight"}
    )


def test_polar_and_cartesian_give_the_same_table(tmp_path, rng):
    polar, cartesian, _ = _jagged_files(tmp_path, rng)
    a, _ = ingest(
        _spec(polar, "ptetaphie", {"pt": "met", "phi": "met_phi"}, min_pt=20.0, max_abs_eta=2.5)
    )
    b, _ = ingest(
        _spec(cartesian, "pxpypze", {"px": "met_px", "py": "met_py"}, min_pt=20.0, max_abs_eta=2.5)
    )
    assert list(a.columns) == list(b.columns)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9)


def test_objects_are_selected_ordered_and_padded(tmp_path, rng):
    polar, _, obj = _jagged_files(tmp_path, rng)
    table, stats = ingest(
        _spec(polar, "ptetaphie", None, min_pt=20.0, max_abs_eta=2.5, multiplicity=True)
    )
    assert stats["events"] == len(table) == 300
    keep = (obj["pt"] > 20.0) & (abs(obj["eta"]) < 2.5)
    np.testing.assert_array_equal(table["n_jet"], ak.to_numpy(ak.sum(keep, axis=1)))
    pts = table[["jet1_pt", "jet2_pt", "jet3_pt"]].to_numpy()
    assert np.all(np.diff(pts, axis=1) <= 0), "objects must be pT-ordered"
    present = pts > 0
    assert np.all(pts[present] > 20.0)
    for k in (1, 2, 3):
        absent = table[f"jet{k}_pt"] == 0
        assert (table.loc[absent, [f"jet{k}_eta", f"jet{k}_phi", f"jet{k}_e"]] == 0).all().all()
    expected_lead = ak.to_numpy(ak.fill_none(ak.max(obj["pt"][keep], axis=1), 0.0))
    np.testing.assert_allclose(table["jet1_pt"], expected_lead)


def test_min_multiplicity_removes_events(tmp_path, rng):
    polar, _, obj = _jagged_files(tmp_path, rng)
    table, stats = ingest(_spec(polar, "ptetaphie", None, min=2))
    expected = int(np.sum(ak.to_numpy(ak.num(obj["pt"])) >= 2))
    assert len(table) == expected
    assert stats["removed"]["jet"] == 300 - expected


def test_nanoaod_naming_by_prefix(tmp_path, rng):
    obj = random_objects(rng, 200)
    path = write_tree(
        tmp_path / "nano.root",
        {
            "Jet": ak.zip({k: obj[k] for k in ("pt", "eta", "phi", "mass")}),
            "MET_pt": rng.exponential(20.0, 200),
            "MET_phi": rng.uniform(-np.pi, np.pi, 200),
        },
        tree="Events",
    )
    with __import__("uproot").open(path) as f:
        assert "nJet" in f["Events"].keys()
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "tree": "Events",
            "objects": [{"name": "jet", "prefix": "Jet_", "kinematics": "ptetaphim", "max": 2}],
            "met": {"pt": "MET_pt", "phi": "MET_phi"},
        }
    )
    table, _ = ingest(spec)
    lead = ak.to_numpy(ak.fill_none(ak.max(obj["pt"], axis=1), 0.0))
    np.testing.assert_allclose(table["jet1_pt"], lead)
    energy = table["jet1_e"][table["jet1_pt"] > 0]
    assert np.all(energy >= table["jet1_pt"][table["jet1_pt"] > 0])


def test_several_files_by_glob_and_small_steps(tmp_path, rng):
    for i in range(3):
        obj = random_objects(rng, 100)
        write_tree(
            tmp_path / f"part{i}.root",
            {"jet": ak.zip({k: obj[k] for k in ("pt", "eta", "phi", "mass")})},
        )
    spec = DatasetSpec.from_config(
        {
            "files": [str(tmp_path / "part*.root")],
            "objects": [{"name": "jet", "prefix": "jet_", "kinematics": "ptetaphim", "max": 2}],
        }
    )
    big, stats = ingest(spec)
    small, _ = ingest(spec, step_size=50)
    parallel, _ = ingest(spec, step_size=50, threads=3)  # baskets decompressed in parallel
    assert len(stats["files"]) == 3 and len(big) == 300
    np.testing.assert_array_equal(big.to_numpy(), small.to_numpy())
    pd.testing.assert_frame_equal(parallel, small)
    with pytest.raises(HepgenError, match="threads must be a positive integer, found 0"):
        ingest(spec, threads=0)


def test_real_cms_dimuon_flat_branches(shared_zmumu):
    slots = {f: [f"{f}1", f"{f}2"] for f in ("px", "py", "pz")} | {"e": ["E1", "E2"]}
    spec = DatasetSpec.from_config(
        {
            "files": [str(shared_zmumu)],
            "objects": [
                {"name": "mu", "kinematics": "pxpypze", "max": 2, "min": 2, "branches": slots}
            ],
            "scalars": ["M"],
        }
    )
    table, _ = ingest(spec)
    assert len(table) == 2304
    mu = [
        vector.array(
            {
                "pt": table[f"mu{k}_pt"],
                "eta": table[f"mu{k}_eta"],
                "phi": table[f"mu{k}_phi"],
                "E": table[f"mu{k}_e"],
            }
        )
        for k in (1, 2)
    ]
    mass = (mu[0] + mu[1]).mass
    np.testing.assert_allclose(mass, table["M"], rtol=1e-3, atol=0.05)
    assert 80 < np.median(mass) < 100


def _catalogue_file(tmp_path, rng, fmt, n=300):
    """A TTree or RNTuple with branches of every shape: jagged objects (float64 kinematics,
    int32, bool, uint8), flat numbers (float32 MET, float64 weight, int64 run, int32 njet), a
    string, a fixed-size array and, in the RNTuple only (uproot writes no nested lists to a
    TTree), a jagged list of lists."""
    obj = random_objects(rng, n)
    v = vector.zip({k: obj[k] for k in ("pt", "eta", "phi", "mass")})
    jet = {
        **{k: obj[k] for k in ("pt", "eta", "phi")},
        "e": v.E,
        "q": ak.values_astype(obj["eta"] > 0, np.int32) * 2 - 1,
        "tight": obj["pt"] > 30.0,
        "id": ak.values_astype(obj["pt"] > 20.0, np.uint8),
    }
    branches = {
        "met": rng.exponential(20.0, n).astype(np.float32),
        "met_phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32),
        "weight": rng.uniform(0.5, 1.5, n),
        "run": np.arange(n, dtype=np.int64),
        "label": ak.Array(["a"] * n),
        "fixed": np.zeros((n, 3)),
    }
    path = tmp_path / f"{fmt}.root"
    with uproot.recreate(path) as file:
        if fmt == "rntuple":
            jagged = {f"jet_{k}": values for k, values in jet.items()}
            count = ak.to_numpy(ak.num(obj["pt"])).astype(np.int32)
            nested = ak.unflatten(obj["pt"], np.ones(n, dtype=np.int64))  # var * var
            file.mkrntuple("events", {**jagged, "njet": count, **branches, "nested": nested})
        else:  # jagged branches jet_pt, ... sharing the counter njet
            file.mktree(
                "events",
                {"jet": ak.zip(jet), **branches},
                counter_name=lambda counted: f"n{counted}",
                field_name=lambda outer, inner: f"{outer}_{inner}",
            )
    return path


_JET = {"name": "jet", "prefix": "jet_", "max": 2}
_FLAT = "a flat number (one value per event)"
_JAGGED = "jagged var * number (one value per object)"
_BOTH = ("ttree", "rntuple")
#: (change to a valid dataset entry, the message (``{file}``: the file), formats): each bad
#: input stops ingestion with one line naming the culprit.
CATALOGUE = [
    ({"files": ["nope.root"]}, "input file 'nope.root' does not exist", _BOTH),
    ({"tree": "evnts"}, "{file}: no tree 'evnts'; the file holds ['events']", _BOTH),
    (
        {"objects": [{"name": "mu", "prefix": "lep_", "max": 2}]},
        "{file}, tree 'events': no branch 'lep_pt'; closest: ['jet_pt']",
        _BOTH,
    ),
    (
        {"met": {"pt": "jet_pt", "phi": "met_phi"}},
        f"{{file}}, tree 'events': branch 'jet_pt' is jagged var * float64, but as met.pt it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"met": {"px": "met", "py": "label"}},
        f"{{file}}, tree 'events': branch 'label' is string, but as met.py it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"weight": "jet_eta"},
        f"{{file}}, tree 'events': branch 'jet_eta' is jagged var * float64, but as the weight it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"scalars": ["run", "jet_q"]},
        f"{{file}}, tree 'events': branch 'jet_q' is jagged var * int32, but as a scalar it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"scalars": ["label"]},
        f"{{file}}, tree 'events': branch 'label' is string, but as a scalar it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "branches": {"eta": "met"}}]},
        f"{{file}}, tree 'events': branch 'met' is flat float32, but as field 'eta' of objects 'jet' it must be {_JAGGED}",
        _BOTH,
    ),
    (
        {
            "objects": [
                {
                    "name": "jet",
                    "kinematics": "pxpypze",
                    "max": 2,
                    "branches": {"px": "jet_pt", "py": "jet_eta", "pz": "run", "e": "jet_e"},
                }
            ]
        },
        f"{{file}}, tree 'events': branch 'run' is flat int64, but as field 'pz' of objects 'jet' it must be {_JAGGED}",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "fields": {"x": "fixed"}}]},
        f"{{file}}, tree 'events': branch 'fixed' is 3 * float64, but as field 'x' of objects 'jet' it must be {_JAGGED}",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "fields": {"x": "nested"}}]},
        f"{{file}}, tree 'events': branch 'nested' is var * var * float64, but as field 'x' of objects 'jet' it must be {_JAGGED}",
        ("rntuple",),
    ),
    (
        {
            "objects": [
                {
                    "name": "mu",
                    "max": 2,
                    "branches": {
                        "pt": ["met", "jet_pt"],
                        "eta": ["met_phi", "met_phi"],
                        "phi": ["met_phi", "met_phi"],
                        "e": ["met", "met"],
                    },
                }
            ]
        },
        f"{{file}}, tree 'events': branch 'jet_pt' is jagged var * float64, but as slot 2 of field 'pt' of objects 'mu' it must be {_FLAT}",
        _BOTH,
    ),
    (
        {"objects": [_JET, {"name": "lead", "prefix": "jet_", "max": 1}]},
        "objects 'jet' and 'lead' both read branches ['jet_pt', 'jet_eta', 'jet_phi', 'jet_e']: "
        "each branch belongs to one collection",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "multiplicity": True}], "scalars": ["n_jet"]},
        "the event table would get column 'n_jet' by both objects 'jet' multiplicity and scalars: rename one",
        _BOTH,
    ),
    (
        {"met": {"pt": "met", "phi": "met_phi"}, "scalars": ["met"]},
        "the event table would get column 'met' by both met and scalars: rename one",
        _BOTH,
    ),
    (
        {"scalars": ["run", "run"]},
        "the event table would get column 'run' twice by scalars: rename one",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "min": 5}]},
        "no event of 300 in tree 'events' of [{file}] passes the object selection: "
        "objects 'jet' (min 5 objects) removes 300",
        _BOTH,
    ),
    (
        {"objects": [{**_JET, "min": 1, "min_pt": 1e4, "max_abs_eta": 2.5}]},
        "no event of 300 in tree 'events' of [{file}] passes the object selection: "
        "objects 'jet' (min 1 object with pt > 10000 GeV and |eta| < 2.5) removes 300",
        _BOTH,
    ),
]


@pytest.mark.parametrize(
    ("fmt", "change", "expected"),
    [
        pytest.param(fmt, change, expected, id=f"{fmt}-{i}-{'+'.join(change)}")
        for i, (change, expected, formats) in enumerate(CATALOGUE)
        for fmt in formats
    ],
)
def test_bad_input_names_the_culprit(tmp_path, rng, fmt, change, expected):
    path = _catalogue_file(tmp_path, rng, fmt)
    entry = {"files": [str(path)], "tree": "events", "objects": [_JET]}
    with pytest.raises(HepgenError) as err:
        ingest(DatasetSpec.from_config({**entry, **change}))
    assert str(err.value) == expected.format(file=repr(str(path)))


@pytest.mark.parametrize("fmt", _BOTH)
def test_branch_roles_are_checked_before_any_file_is_read(tmp_path, rng, fmt):
    good = _catalogue_file(tmp_path / "good", rng, fmt)
    bad = tmp_path / f"bad.{fmt}.root"
    with uproot.recreate(bad) as file:  # the same branches, but a jagged weight
        arrays = uproot.open(good)["events"].arrays()
        branches = {k: arrays[k] for k in ("jet_pt", "jet_eta", "jet_phi", "jet_e")}
        branches["weight"] = ak.unflatten(np.ones(300), np.ones(300, dtype=np.int64))
        (file.mkrntuple if fmt == "rntuple" else file.mktree)("events", branches)
    spec = DatasetSpec.from_config(
        {"files": [str(good), str(bad)], "objects": [_JET], "weight": "weight"}
    )
    steps = iter_columns(spec)
    with pytest.raises(HepgenError, match=r"'weight' is jagged var \* float64, but as the weight"):
        next(steps)  # the good first file yields nothing before the bad second one is refused


def test_numbers_of_every_dtype_are_read_alike_from_ttree_and_rntuple(tmp_path, rng):
    tables = []
    for fmt in _BOTH:
        path = _catalogue_file(tmp_path, np.random.default_rng(3), fmt)
        fields = {"q": "jet_q", "tight": "jet_tight", "id": "jet_id"}
        spec = DatasetSpec.from_config(
            {
                "files": [str(path)],
                "objects": [{**_JET, "min": 1, "multiplicity": True, "fields": fields}],
                "met": {"px": "met", "py": "met_phi"},
                "scalars": ["run", "njet"],
                "weight": "weight",
            }
        )
        tables.append(ingest(spec, step_size=70)[0])
    pd.testing.assert_frame_equal(tables[0], tables[1])
    table = tables[0]
    assert set(np.unique(table["jet1_q"])) == {-1.0, 1.0}
    np.testing.assert_array_equal(table["jet1_tight"], table["jet1_pt"] > 30.0)
    np.testing.assert_array_equal(table["jet2_id"], table["jet2_pt"] > 20.0)
    assert (table["njet"] >= table["n_jet"]).all() and (table["n_jet"] >= 1).all()
    assert np.all(np.diff(table["run"]) > 0)


def test_rntuple_subfields_are_read_by_their_dotted_names(tmp_path, rng):
    obj = random_objects(rng, 120)
    jet = ak.zip({k: obj[k] for k in ("pt", "eta", "phi", "mass")})
    ttree = write_tree(tmp_path / "ttree.root", {"jet": jet})  # branches jet_pt, ...
    rntuple = tmp_path / "rntuple.root"
    with uproot.recreate(rntuple) as file:
        file.mkrntuple("events", {"jet": jet})  # one field jet with subfields jet.pt, ...
    tables = []
    for path, prefix in ((ttree, "jet_"), (rntuple, "jet.")):
        entry = {"name": "jet", "prefix": prefix, "kinematics": "ptetaphim", "max": 3}
        tables.append(
            ingest(DatasetSpec.from_config({"files": [str(path)], "objects": [entry]}))[0]
        )
    pd.testing.assert_frame_equal(tables[0], tables[1])
    with pytest.raises(HepgenError, match=r"branch 'jet' is var \* \{pt: float64"):
        ingest(DatasetSpec.from_config({"files": [str(rntuple)], "scalars": ["jet"]}))


@pytest.mark.parametrize(
    ("datashape", "jagged", "shown"),
    [  # dtypes uproot writes to neither TTree nor RNTuple
        ("complex128", False, "flat complex128"),
        ("var * complex64", True, "jagged var * complex64"),
        ("?float64", False, "?float64"),
        ("var * ?float32", True, "var * ?float32"),
        ("datetime64", False, "flat datetime64"),
    ],
)
def test_roles_refuse_types_that_are_no_numbers(datashape, jagged, shown):
    found = ak.types.from_datashape(datashape, highlevel=False)
    assert describe(found) == shown
    assert not Role("x", jagged=jagged).accepts(found)
    number = ak.types.from_datashape("var * float32" if jagged else "float32", highlevel=False)
    assert Role("x", jagged=jagged).accepts(number)
    assert not Role("x", jagged=not jagged).accepts(number)


def test_truncated_and_fake_root_files(tmp_path, rng):
    polar, _, _ = _jagged_files(tmp_path, rng)
    truncated = tmp_path / "truncated.root"
    truncated.write_bytes(polar.read_bytes()[: polar.stat().st_size // 2])
    fake = tmp_path / "fake.root"
    fake.write_text("not a ROOT file\n")
    for path in (truncated, fake):
        spec = DatasetSpec.from_config(
            {"files": [str(path)], "objects": [{"name": "jet", "prefix": "jet_", "max": 2}]}
        )
        with pytest.raises(HepgenError, match=str(path.name)):
            ingest(spec)


def test_nan_and_empty_and_mismatched(tmp_path):
    nan = write_tree(
        tmp_path / "nan.root", {"met": np.array([1.0, np.nan, 3.0]), "met_phi": np.zeros(3)}
    )
    spec = DatasetSpec.from_config({"files": [str(nan)], "met": {"pt": "met", "phi": "met_phi"}})
    with pytest.raises(HepgenError, match="'met' holds 1 NaN/inf"):
        ingest(spec)
    empty = write_tree(tmp_path / "empty.root", {"met": np.zeros(0), "met_phi": np.zeros(0)})
    spec = DatasetSpec.from_config({"files": [str(empty)], "met": {"pt": "met", "phi": "met_phi"}})
    with pytest.raises(HepgenError, match="empty"):
        ingest(spec)
    bad = write_tree(
        tmp_path / "mismatch.root",
        {
            "a_pt": ak.Array([[1.0, 2.0], [3.0]]),
            "a_eta": ak.Array([[0.1], [0.2]]),
            "a_phi": ak.Array([[0.1, 0.2], [0.3]]),
            "a_e": ak.Array([[1.0, 2.0], [3.0]]),
        },
    )
    spec = DatasetSpec.from_config(
        {"files": [str(bad)], "objects": [{"name": "a", "prefix": "a_", "max": 2}]}
    )
    with pytest.raises(HepgenError, match="differ in length at entry 0"):
        ingest(spec)


def test_rntuple_gives_the_same_table_as_ttree(tmp_path, rng):
    obj = random_objects(rng, 150)
    jagged = {f"jet_{k}": obj[k] for k in ("pt", "eta", "phi", "mass")}
    met = {"met": rng.exponential(20.0, 150), "met_phi": rng.uniform(-np.pi, np.pi, 150)}
    ttree = write_tree(tmp_path / "ttree.root", {**jagged, **met})
    rntuple = tmp_path / "rntuple.root"
    with __import__("uproot").recreate(rntuple) as file:
        file.mkrntuple("events", {**jagged, **met})
    with __import__("uproot").open(ttree) as file:  # `file[name] = ...` writes an RNTuple
        assert file.classname_of("events") == "TTree"
    tables = []
    for path in (ttree, rntuple):
        spec = DatasetSpec.from_config(
            {
                "files": [str(path)],
                "objects": [{"name": "jet", "prefix": "jet_", "kinematics": "ptetaphim", "max": 3}],
                "met": {"pt": "met", "phi": "met_phi"},
            }
        )
        tables.append(ingest(spec, step_size=40)[0])
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_streamed_parquet_equals_in_memory_table(tmp_path, rng):
    polar, _, _ = _jagged_files(tmp_path, rng)
    spec = _spec(polar, "ptetaphie", {"pt": "met", "phi": "met_phi"}, min=1)
    table, stats = ingest(spec)
    streamed = ingest_to_parquet(spec, tmp_path / "events.parquet", step_size=37, threads=2)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "events.parquet"), table)
    assert streamed["events"] == stats["events"] == len(table)


def test_failed_ingestion_leaves_no_table(tmp_path):
    nan = write_tree(
        tmp_path / "nan.root", {"met": np.array([1.0, 2.0, np.nan]), "met_phi": np.zeros(3)}
    )
    spec = DatasetSpec.from_config({"files": [str(nan)], "met": {"pt": "met", "phi": "met_phi"}})
    with pytest.raises(HepgenError, match="NaN"):
        ingest_to_parquet(spec, tmp_path / "events.parquet", step_size=2)
    assert list(tmp_path.glob("*.parquet*")) == [] and not list(tmp_path.glob(".events*"))


def test_per_object_fields_follow_their_objects(tmp_path, rng):
    obj = random_objects(rng, 200)
    charge = ak.values_astype(rng.integers(0, 2, len(ak.flatten(obj["pt"]))) * 2 - 1, np.int32)
    charge = ak.unflatten(charge, ak.num(obj["pt"]))
    path = write_tree(
        tmp_path / "fields.root",
        {"jet": ak.zip({**{k: obj[k] for k in ("pt", "eta", "phi", "mass")}, "q": charge})},
    )
    entry = {"name": "jet", "prefix": "jet_", "kinematics": "ptetaphim", "max": 3}
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "objects": [{**entry, "min_pt": 20.0, "fields": {"charge": "jet_q"}}],
        }
    )
    table, _ = ingest(spec)
    assert [c for c in table.columns if c.startswith("jet1_")] == [
        "jet1_pt", "jet1_eta", "jet1_phi", "jet1_e", "jet1_charge"
    ]  # fmt: skip
    keep = obj["pt"] > 20.0
    order = ak.argsort(obj["pt"][keep], ascending=False)
    lead = ak.to_numpy(ak.fill_none(ak.firsts(charge[keep][order]), 0))
    np.testing.assert_array_equal(table["jet1_charge"], lead)
    absent = table["jet3_pt"] == 0
    assert absent.any() and (table.loc[absent, "jet3_charge"] == 0).all()
    with pytest.raises(HepgenError, match="jet_charge"):
        ingest(
            DatasetSpec.from_config(
                {**spec_entry(path), "objects": [{**entry, "fields": {"charge": "jet_charge"}}]}
            )
        )
    with pytest.raises(HepgenError, match=r"fields \['pt'\] are kinematics"):
        DatasetSpec.from_config(
            {**spec_entry(path), "objects": [{**entry, "fields": {"pt": "jet_q"}}]}
        )


def spec_entry(path):
    return {"files": [str(path)]}


def test_real_cms_dimuon_charges(shared_zmumu):
    slots = {f: [f"{f}1", f"{f}2"] for f in ("px", "py", "pz")} | {"e": ["E1", "E2"]}
    mu = {"name": "mu", "kinematics": "pxpypze", "max": 2, "min": 2, "branches": slots}
    spec = DatasetSpec.from_config(
        {"files": [str(shared_zmumu)], "objects": [{**mu, "fields": {"charge": ["Q1", "Q2"]}}]}
    )
    table, _ = ingest(spec)
    charges = table[["mu1_charge", "mu2_charge"]].to_numpy()
    assert set(np.unique(charges)) == {-1.0, 1.0}
    assert (charges.sum(axis=1) == 0).mean() > 0.9  # mostly opposite-sign Z candidates


def test_the_kept_events_weight_sum_is_recorded(tmp_path, rng):
    path = _catalogue_file(tmp_path, rng, "ttree")
    entry = {"files": [str(path)], "tree": "events", "weight": "weight"}
    jets = {**_JET, "min": 1, "min_pt": 30.0}
    table, stats = ingest(DatasetSpec.from_config({**entry, "objects": [jets]}))
    assert 0 < stats["events"] < stats["entries"]  # the selection removes some events
    assert stats["weight_sum"] == pytest.approx(table["weight"].sum(), rel=1e-12)
    _, unweighted = ingest(DatasetSpec.from_config({**entry, "weight": None, "objects": [jets]}))
    assert "weight_sum" not in unweighted
