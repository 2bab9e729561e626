"""Generator files: what they hold, how they load, and the events the loaded generator draws."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import torch
from generator_setup import (
    CONDITION,
    CROSS_SECTION,
    REFINE,
    events,
    train_conditional_generator,
    train_generator,
)

import hepgen
from hepgen import reweighting
from hepgen.errors import HepgenError
from hepgen.generator import FORMAT, VERSION, apply_selection, cross_section_record
from hepgen.io import DatasetSpec
from hepgen.weighting import classifier_inputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def path(tmp_path_factory) -> Path:
    return train_generator(tmp_path_factory.mktemp("generator") / "models" / "bvae")


@pytest.fixture(scope="module")
def generator(path):
    return hepgen.load_generator(path)


@pytest.fixture(scope="module")
def conditional(tmp_path_factory) -> Path:
    """A flow of p(features | ll_m, met) packaged as the workflow packages it."""
    return train_conditional_generator(tmp_path_factory.mktemp("conditional") / "models" / "flow")


@pytest.fixture(scope="module")
def refined(tmp_path_factory) -> tuple[Path, list]:
    """A refined generator file and the refine stage's scikit-learn classifiers behind it."""
    fitted = []

    def keep(model, columns):
        fitted.append((model, list(columns)))
        return trees_from_sklearn(model, columns)

    trees_from_sklearn = reweighting.trees_from_sklearn
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reweighting, "trees_from_sklearn", keep)
        directory = tmp_path_factory.mktemp("refined") / "models" / "bvae"
        path = train_generator(directory, refine=REFINE)
    return path, fitted


def readme_example() -> str:
    """The Python block of README's "Using a trained generator" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Using a trained generator") :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_file_holds_plain_values_and_tensors_only(path):
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == FORMAT and payload["version"] == 2 and VERSION == 3
    assert payload["type"] == "bvae" and payload["conditions"] == []
    assert payload["cross_section"] == CROSS_SECTION
    transform = json.loads(payload["transform"])
    assert transform["features"] == payload["features"]
    assert transform["representation"]["systems"][0]["name"] == "ll"
    assert DatasetSpec.from_config(payload["dataset"], files=[]).objects[1].fields == ("btag",)
    assert [o["name"] for o in payload["repair"]["objects"]] == ["jet", "mu"]
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())
    assert len(payload["training"]["history"]) == 3
    assert payload["provenance"]["training"] == {"seed": 4}
    assert payload["reweighter"] is None


def test_a_refined_file_holds_its_classifiers_as_tensors(refined):
    path, fitted = refined
    state = torch.load(path, weights_only=True)["reweighter"]
    assert len(state["classifiers"]) == REFINE["folds"] == len(fitted)
    assert state["clip"] == REFINE["clip"] and state["features"][:2] == ["mu1_pt", "mu1_eta"]
    for trees, (model, columns) in zip(state["classifiers"], fitted, strict=True):
        assert trees["columns"] == columns and len(trees["roots"]) == model.n_iter_
        assert all(isinstance(v, torch.Tensor) for v in trees["nodes"].values())
    assert state["record"]["n_generated"] > 800 and 0 < state["record"]["ess_fraction"] <= 1
    assert hepgen.load_generator(path).reweighter.norm == pytest.approx(state["norm"])


def test_refined_samples_carry_the_refine_stages_weights(refined):
    """w = min(p / (1 - p), clip) normalised to mean 1, p the mean of the k classifiers."""
    path, fitted = refined
    generator = hepgen.load_generator(path)
    table = generator.sample(600, seed=4, batch_size=250, device="cpu")
    assert list(table.columns) == [*generator.columns, "weight"]
    x, names = classifier_inputs(table, generator.transform.columns)
    p = np.mean(
        [m.predict_proba(x[:, [names.index(c) for c in columns]])[:, 1] for m, columns in fitted],
        axis=0,
    )
    ratio = np.minimum(p / (1 - p), REFINE["clip"])
    np.testing.assert_allclose(table["weight"], ratio / ratio.mean(), rtol=1e-10)
    assert table["weight"].mean() == pytest.approx(1.0, abs=1e-12)
    assert table["weight"].std() > 0.01 and (table["weight"] > 0).all()
    numpy = generator.sample(600, seed=4, batch_size=250, device="cpu", format="numpy")
    np.testing.assert_array_equal(numpy, table.to_numpy())  # weight: the last column
    jagged = generator.sample(600, seed=4, batch_size=250, device="cpu", format="awkward")
    np.testing.assert_array_equal(jagged.weight.to_numpy(), table["weight"].to_numpy())
    batches = list(generator.iter_sample(600, seed=4, batch_size=250, device="cpu"))
    streamed = np.concatenate([b["weight"].to_numpy() for b in batches])
    np.testing.assert_allclose(streamed / streamed.mean(), table["weight"], rtol=1e-12)


def test_an_unrefined_generator_draws_unweighted_events(generator, path, tmp_path):
    assert generator.reweighter is None
    assert "weight" not in generator.sample(200, seed=1, device="cpu").columns
    payload = torch.load(path, weights_only=True)
    older = tmp_path / "v1.pt"  # a file from before reweighters: version 1, no key
    torch.save({**{k: v for k, v in payload.items() if k != "reweighter"}, "version": 1}, older)
    assert hepgen.load_generator(older).reweighter is None


def test_the_readme_example_draws_selected_events_in_gev(path, tmp_path, monkeypatch):
    code = readme_example().replace("results/dy_mumu/models/bvae/generator.pt", str(path))
    code = code.replace("100_000", "2000")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the documented example
    events, jagged, generator = namespace["events"], namespace["jagged"], namespace["generator"]
    assert list(events.columns) == generator.columns
    assert len(events) == 2000 - generator.last_validity["removed"] == len(jagged)
    assert generator.last_validity["removed"] < 400
    muons = events[["mu1_pt", "mu2_pt"]].to_numpy()
    assert (muons > 20.0).all() and 30 < np.median(muons[:, 0]) < 200  # GeV, not scaled
    assert (events[["mu1_eta", "mu2_eta"]].abs() < 2.5).all().all()
    assert (events.filter(like="_phi").abs() <= np.pi).all().all()  # rad
    mass = (jagged.mu[:, 0] + jagged.mu[:, 1]).mass
    assert ak.all(mass > 0)
    jets = events[["jet1_pt", "jet2_pt"]].to_numpy()
    assert ((jets == 0) | (jets > 20.0)).all()
    np.testing.assert_array_equal(ak.num(jagged.jet), (jets > 0).sum(axis=1))


def test_the_same_seed_gives_the_same_events(generator):
    first = generator.sample(1500, seed=9, batch_size=500, device="cpu")
    again = generator.sample(1500, seed=9, batch_size=500, device="cpu")
    other = generator.sample(1500, seed=10, batch_size=500, device="cpu")
    pd.testing.assert_frame_equal(first, again)
    assert not first["mu1_pt"].head(100).equals(other["mu1_pt"].head(100))
    numpy = generator.sample(1500, seed=9, batch_size=500, device="cpu", format="numpy")
    np.testing.assert_array_equal(numpy, first.to_numpy())
    assert generator.last_info["seed"] == 9 and generator.last_info["rate_hz"] > 0


def test_the_attributes_an_exporter_and_a_user_need(generator):
    assert isinstance(generator.model, torch.nn.Module)
    assert generator.transform.features == generator.features
    assert generator.features[0] == "ll_m" and generator.type == "bvae"
    assert generator.provenance["dataset"] == "tiny"
    assert generator.spec.tree == "events"


def test_a_newer_layout_and_other_files_are_refused_in_one_line(path, tmp_path):
    payload = torch.load(path, weights_only=True)
    newer = tmp_path / "newer.pt"
    torch.save({**payload, "version": VERSION + 1}, newer)
    with pytest.raises(HepgenError) as err:
        hepgen.load_generator(newer)
    assert str(err.value) == (
        f"{newer} has generator layout version 4; this hepgen reads version 3 "
        "(install a newer hepgen)"
    )
    checkpoint = path.parent / "model.pt"
    with pytest.raises(
        HepgenError, match="expected format 'hepgen-generator', found 'hepgen-checkpoint'"
    ):
        hepgen.load_generator(checkpoint)
    text = tmp_path / "notes.txt"
    text.write_text("not a model\n")
    with pytest.raises(HepgenError, match=r"notes.txt is not a hepgen generator file: torch.load"):
        hepgen.load_generator(text)
    with pytest.raises(HepgenError, match=r"generator file .*missing.pt does not exist"):
        hepgen.load_generator(tmp_path / "missing.pt")


def test_the_selection_drops_objects_and_removes_events():
    spec = DatasetSpec.from_config(
        {
            "objects": [
                {"name": "mu", "prefix": "m_", "max": 2, "min": 2, "min_pt": 20.0},
                {"name": "jet", "prefix": "j_", "max": 2, "min_pt": 30.0, "max_abs_eta": 2.5},
            ]
        },
        files=[],
    )
    table = events(n=3)[[c for c in events(n=3).columns if c.startswith(("mu", "jet"))]]
    table = table.drop(columns=[c for c in table if c.endswith(("_charge", "_btag"))])
    table.loc[0, ["jet1_pt", "jet1_eta", "jet2_pt", "jet2_eta"]] = [50.0, 3.0, 40.0, 1.0]
    table.loc[1, "mu2_pt"] = 15.0
    table.loc[2, ["jet1_pt", "jet2_pt"]] = [35.0, 25.0]
    selected, removed = apply_selection(table, spec)
    assert removed == 1 and len(selected) == 2
    assert selected.loc[0, "jet1_pt"] == 40.0 and selected.loc[0, "jet1_eta"] == 1.0
    assert selected.loc[0, ["jet2_pt", "jet2_eta", "jet2_phi", "jet2_e"]].eq(0).all()
    assert selected.loc[1, "jet1_pt"] == 35.0 and selected.loc[1, "jet2_pt"] == 0.0


def test_the_cross_section_combines_chunks_and_the_selection():
    chunks = [
        {"events": 300, "sigma_pb": 100.0, "sigma_err_pb": 3.0},
        {"events": 100, "sigma_pb": 120.0, "sigma_err_pb": 4.0},
    ]
    record = cross_section_record(chunks, {"entries": 400, "events": 100}, removed_by_cuts=0.2)
    assert record["sigma_pb"] == pytest.approx(105.0)
    assert record["sigma_err_pb"] == pytest.approx(np.hypot(0.75 * 3.0, 0.25 * 4.0))
    assert record["generated_events"] == 400
    assert record["efficiency"] == pytest.approx(0.25 * 0.8)
    unknown = cross_section_record([chunks[0], {"events": 5}], None)
    assert unknown == dict.fromkeys(("sigma_pb", "sigma_err_pb", "generated_events", "efficiency"))


def test_the_cross_section_of_stitched_slices_is_their_sum():
    low = {"index": 0, "events": 400}
    high = {"index": 1, "events": 100}
    chunks = [
        {"events": 200, "sigma_pb": 1500.0, "sigma_err_pb": 10.0, "slice": low},
        {"events": 200, "sigma_pb": 1520.0, "sigma_err_pb": 10.0, "slice": low},
        {"events": 100, "sigma_pb": 6.0, "sigma_err_pb": 0.3, "slice": high},
    ]
    # weights in pb: the kept events carry 755 pb of the 1516 pb generated
    record = cross_section_record(chunks, {"entries": 500, "events": 300, "weight_sum": 755.0})
    assert record["sigma_pb"] == pytest.approx(1510.0 + 6.0)
    assert record["sigma_err_pb"] == pytest.approx(np.sqrt(2 * 5.0**2 + 0.3**2))
    assert record["generated_events"] == 500
    assert record["efficiency"] == pytest.approx(755.0 / 1516.0)  # not 300 / 500 events


def test_importing_hepgen_loads_no_torch():
    code = "import sys, hepgen; print('torch' in sys.modules, hepgen.load_generator.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "hepgen.generator"]


def condition_rows(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """Condition values in GeV (a Z-like mass range, some MET) and a column nobody needs."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ll_m": rng.uniform(70.0, 150.0, n),
            "met": rng.exponential(20.0, n) + 1.0,
            "run": np.arange(n, dtype=float),
        }
    )


def test_a_conditional_file_holds_its_conditioning(conditional, generator):
    payload = torch.load(conditional, weights_only=True)
    assert payload["version"] == VERSION == 3
    assert payload["conditions"]["columns"] == CONDITION
    assert list(payload["conditions"]["chains"]) == ["met"]  # ll_m is a feature: its own chain
    assert payload["features"][-2:] == CONDITION and "ll_m" not in payload["features"][:-2]
    loaded = hepgen.load_generator(conditional)
    assert loaded.condition_columns == CONDITION == loaded.conditions
    assert loaded.model.conditions == 2 and loaded.version == 3
    assert loaded.columns == [
        *loaded.transform.columns,
        "condition_ll_m",
        "condition_met",
        "condition_row",
    ]
    assert loaded.condition_outputs() == {"ll_m": "condition_ll_m", "met": "condition_met"}
    assert "conditions=['ll_m', 'met']" in repr(loaded)
    assert generator.condition_columns == [] and generator.conditioning is None
    assert generator.version == 2  # unconditional files keep the layout older readers read


def test_conditional_events_sit_beside_the_rows_they_were_drawn_for(conditional):
    generator = hepgen.load_generator(conditional)
    rows = condition_rows()
    table = generator.sample(condition=rows, seed=5, batch_size=16, device="cpu")
    removed = generator.last_validity["removed"]
    assert generator.last_info["drawn"] == 40 and len(table) == 40 - removed < 40
    assert list(table.columns) == generator.columns and table["condition_row"].dtype == np.int64
    row = table["condition_row"].to_numpy()
    assert (np.diff(row) > 0).all() and row.min() >= 0 and row.max() < 40
    # the given values come back exactly, not through the float32 network space
    np.testing.assert_array_equal(table["condition_ll_m"], rows["ll_m"].to_numpy()[row])
    np.testing.assert_array_equal(table["condition_met"], rows["met"].to_numpy()[row])
    # ll_m is not generated: the muon pair has the mass asked for; MET is, beside the one asked
    mu = [table[[f"mu{k}_{f}" for f in ("pt", "eta", "phi", "e")]].to_numpy().T for k in (1, 2)]
    px, py = (
        sum(pt * np.cos(phi) for pt, _, phi, _ in mu),
        sum(pt * np.sin(phi) for pt, _, phi, _ in mu),
    )
    pz, e = sum(pt * np.sinh(eta) for pt, eta, _, _ in mu), sum(m[3] for m in mu)
    mass = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    np.testing.assert_allclose(mass, table["condition_ll_m"], rtol=2e-3)
    assert not np.allclose(table["met"], table["condition_met"], rtol=1e-3)


def test_per_row_draws_blocks_and_formats_keep_the_condition_columns(conditional):
    generator = hepgen.load_generator(conditional)
    rows = condition_rows(12)
    options = {"condition": rows, "per_row": True, "seed": 2, "batch_size": 25, "device": "cpu"}
    table = generator.sample(6, **options)
    assert generator.last_info["drawn"] == 72
    assert len(table) == 72 - generator.last_validity["removed"]
    counts = table["condition_row"].value_counts()
    assert counts.max() <= 6 and len(counts) >= 6 and table["condition_row"].is_monotonic_increasing
    np.testing.assert_array_equal(
        table["condition_ll_m"], rows["ll_m"].to_numpy()[table["condition_row"]]
    )
    again = generator.sample(6, **{**options, "condition": rows.to_dict("list")})
    pd.testing.assert_frame_equal(table, again)  # a dict of arrays, and the same seed
    other = generator.sample(6, **{**options, "seed": 3})
    assert not table["mu1_pt"].head(20).equals(other["mu1_pt"].head(20))
    numpy = generator.sample(6, **options, format="numpy")
    np.testing.assert_array_equal(numpy, table.to_numpy(np.float64))
    assert numpy[:, -1].tolist() == table["condition_row"].tolist()
    jagged = generator.sample(6, **options, format="awkward")
    assert {"condition_ll_m", "condition_met", "condition_row", "mu", "jet"} <= set(jagged.fields)
    np.testing.assert_array_equal(jagged.condition_met.to_numpy(), table["condition_met"])
    assert ak.all(ak.num(jagged.mu) == 2)


def test_condition_mistakes_are_refused_in_one_line(conditional, generator):
    loaded = hepgen.load_generator(conditional)
    with pytest.raises(HepgenError, match=r"is conditional: give condition=.*\['ll_m', 'met'\]"):
        loaded.sample(10, seed=1, device="cpu")
    with pytest.raises(HepgenError, match="is unconditional .* but a condition was given"):
        generator.sample(10, condition=condition_rows(), device="cpu")
    with pytest.raises(HepgenError) as err:
        loaded.sample(condition=condition_rows().drop(columns="met"), device="cpu")
    assert str(err.value).startswith(
        "sample: condition lacks the condition columns ['met'] (the generator needs ['ll_m', 'met']"
    )
    with pytest.raises(HepgenError, match="n=5 needs per_row=True"):
        loaded.sample(5, condition=condition_rows(), device="cpu")
    bad = condition_rows().assign(met=lambda t: t["met"].where(t.index != 3))
    with pytest.raises(HepgenError, match=r"NaN/inf values \(rows per column: \{'met': 1\}\)"):
        loaded.sample(condition=bad, device="cpu")
    with pytest.raises(HepgenError, match="holds no condition rows"):
        loaded.sample(condition=condition_rows().head(0), device="cpu")


def test_a_conditioning_needs_layout_version_3(conditional, tmp_path):
    payload = torch.load(conditional, weights_only=True)
    older = tmp_path / "v2.pt"
    torch.save({**payload, "version": 2}, older)
    with pytest.raises(
        HepgenError, match=r"v2.pt: key 'conditions' must be \[\] or \(layout version 3\)"
    ):
        hepgen.load_generator(older)
