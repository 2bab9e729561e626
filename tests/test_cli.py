"""The ``hepgen`` command as installed: sample to Parquet and ROOT, info, export, and its errors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import uproot
from generator_setup import CROSS_SECTION, REFINE, train_conditional_generator, train_generator

from hepgen.cli import describe
from hepgen.errors import HepgenError
from hepgen.generator import load_generator

HEPGEN = Path(sys.executable).parent / "hepgen"


def hepgen(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(HEPGEN), *map(str, args)], capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def path(tmp_path_factory) -> Path:
    """A generator where the workflow puts one: results/<dataset>/models/<model>/generator.pt."""
    results = tmp_path_factory.mktemp("cli") / "results" / "tiny"
    return train_generator(results / "models" / "bvae")


@pytest.fixture(scope="module")
def conditional(tmp_path_factory) -> Path:
    """A conditional flow (on ll_m and met) where the workflow puts one."""
    results = tmp_path_factory.mktemp("cli-conditional") / "results" / "tiny"
    return train_conditional_generator(results / "models" / "flow")


def condition_file(tmp_path: Path, n: int = 30, suffix: str = ".parquet") -> Path:
    """Condition rows in GeV, with a column the generator does not need."""
    rng = np.random.default_rng(8)
    table = pd.DataFrame(
        {"ll_m": rng.uniform(70.0, 150.0, n), "met": rng.exponential(20.0, n) + 1.0}
    )
    table["event"] = np.arange(n, dtype=np.int64)
    path = tmp_path / f"conditions{suffix}"
    if suffix == ".root":
        with uproot.recreate(path) as file:
            file["gen"] = {c: table[c].to_numpy() for c in table}
    else:
        table.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def refined(tmp_path_factory) -> Path:
    """A refined model's generator where the workflow puts it."""
    results = tmp_path_factory.mktemp("cli-refined") / "results" / "tiny"
    return train_generator(results / "models" / "bvae", refine=REFINE)


def test_sample_to_parquet_is_reproducible_and_in_physical_units(path, tmp_path):
    first, again = tmp_path / "a.parquet", tmp_path / "b.parquet"
    result = hepgen("sample", path, "-n", 3000, "-o", first, "--seed", 5, "--device", "cpu")
    hepgen("sample", path, "-n", 3000, "-o", again, "--seed", 5, "--batch-size", 100_000)
    a, b = pd.read_parquet(first), pd.read_parquet(again)
    pd.testing.assert_frame_equal(a, b)
    assert f"wrote {len(a)} events to {first}" in result.stdout
    assert 2500 < len(a) <= 3000
    assert (a[["mu1_pt", "mu2_pt"]] > 20.0).all().all()
    assert 30 < a["mu1_pt"].median() < 200  # GeV
    assert "sample bvae" in result.stderr  # the progress bar
    other = tmp_path / "c.parquet"
    hepgen("sample", path, "-n", 3000, "-o", other, "--seed", 6)
    assert not pd.read_parquet(other)["mu1_pt"].equals(a["mu1_pt"])


def test_sample_to_root_reads_back_by_branch_name(path, tmp_path):
    output = tmp_path / "events.root"
    hepgen("sample", path, "-n", 2000, "-o", output, "--seed", 5)
    table = pd.read_parquet(hepgen_parquet(path, tmp_path))
    tree = uproot.open(output)["events"]
    arrays = tree.arrays(["nlep", "lep_pt", "lep_charge", "njet", "jet_pt", "met", "weight"])
    assert len(arrays) == len(table)
    assert np.all(arrays["nlep"].to_numpy() == 2)
    np.testing.assert_allclose(arrays["lep_pt"][:, 0], table["mu1_pt"], rtol=1e-6)
    np.testing.assert_allclose(arrays["met"], table["met"], rtol=1e-6)
    np.testing.assert_array_equal(arrays["njet"], (table[["jet1_pt", "jet2_pt"]] > 0).sum(axis=1))
    sigma = CROSS_SECTION["sigma_pb"] * CROSS_SECTION["efficiency"] / 2000
    np.testing.assert_allclose(arrays["weight"], sigma, rtol=1e-6)  # pb per drawn event


def test_a_refined_generator_writes_the_classifier_weight(refined, tmp_path):
    """Several batches: the weights are normalised over the whole draw, as sample() does."""
    parquet, root = tmp_path / "w.parquet", tmp_path / "w.root"
    options = ["-n", 1200, "--seed", 5, "--batch-size", 500, "--device", "cpu"]
    hepgen("sample", refined, "-o", parquet, *options)
    hepgen("sample", refined, "-o", root, *options)
    table = pd.read_parquet(parquet)
    expected = load_generator(refined).sample(1200, seed=5, batch_size=500, device="cpu")
    pd.testing.assert_frame_equal(table.drop(columns="weight"), expected.drop(columns="weight"))
    np.testing.assert_allclose(table["weight"], expected["weight"], rtol=1e-12)
    assert table["weight"].mean() == pytest.approx(1.0, abs=1e-12) and table["weight"].std() > 0
    branch = uproot.open(root)["events"]["weight"].array(library="np")
    sigma = CROSS_SECTION["sigma_pb"] * CROSS_SECTION["efficiency"] / 1200
    np.testing.assert_allclose(branch, sigma * table["weight"], rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["w.parquet", "w.root"]  # no staged files
    text = hepgen("info", refined).stdout
    assert "reweighter:  3-fold boosted trees" in text and "clip 20; at refine time ESS" in text
    facts = describe(refined)["reweighter"]  # what `hepgen info --json` prints
    assert facts["folds"] == 3 and 0 < facts["ess_fraction"] <= 1


def hepgen_parquet(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / "same.parquet"
    hepgen("sample", path, "-n", 2000, "-o", out, "--seed", 5)
    return out


def test_info_shows_the_model_training_metrics_and_provenance(path):
    metrics = path.parents[2] / "metrics" / "bvae.json"
    metrics.parent.mkdir(exist_ok=True)
    auc = {"value": 0.61, "err": 0.01, "floor": 0.5, "floor_err": 0.01}
    metrics.write_text(json.dumps({"classifier_auc": auc, "provenance": {"seed": 1}}))
    text = hepgen("info", path).stdout
    assert "type:        bvae" in text
    assert "features:    18: ll_m, ll_pt" in text
    assert "training:    3 epochs" in text and "best val_loss" in text
    assert "classifier_auc: 0.61 ± 0.01 (floor 0.5)" in text
    assert '"dataset": "tiny"' in text
    facts = json.loads(hepgen("info", path, "--json").stdout)
    assert facts["cross_section"] == CROSS_SECTION and facts["metrics"]["classifier_auc"] == auc
    metrics.unlink()
    text = hepgen("info", path).stdout
    assert "metrics:     none found at" in text and "reweighter:  none" in text


def test_export_writes_onnx(path, tmp_path):
    if importlib.util.find_spec("hepgen.export") is None:
        pytest.skip("hepgen.export (export_onnx) is not part of this installation")
    output = tmp_path / "bvae.onnx"
    result = hepgen("export", path, "-o", output, check=False)
    if result.returncode:  # a type the exporter cannot handle: one line saying so
        assert result.stderr.count("\n") == 1 and "hepgen export: error:" in result.stderr
        assert not output.exists()
    else:
        assert output.stat().st_size > 1000


def test_export_of_a_refined_generator_says_the_weights_stay_out(refined, tmp_path, caplog):
    """`hepgen export` prints the warning as one line (`hepgen: ...`) on stderr."""
    export = pytest.importorskip("hepgen.export")
    with caplog.at_level("WARNING", logger="hepgen.export"):
        try:
            export.export_onnx(load_generator(refined), tmp_path / "bvae.onnx")
        except HepgenError:
            pass  # a type the exporter cannot handle: the warning comes first
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("event weights are not part of it" in w for w in warnings), warnings


@pytest.mark.parametrize("command", ["sample", "info", "export"])
def test_help_for_every_subcommand(command):
    result = hepgen(command, "--help")
    assert f"usage: hepgen {command}" in result.stdout


def _bad(tmp_path: Path, path: Path) -> dict[str, tuple[list, str]]:
    payload = torch.load(path, weights_only=True)
    newer = tmp_path / "newer.pt"
    torch.save({**payload, "version": 4}, newer)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    exists = tmp_path / "exists.root"
    exists.write_bytes(b"keep")
    out = tmp_path / "out.parquet"
    return {
        "not a generator": (
            ["sample", text, "-n", 10, "-o", out],
            f"hepgen sample: error: {text} is not a hepgen generator file: torch.load(weights_only=True) refuses it",
        ),
        "a checkpoint": (
            ["info", path.parent / "model.pt"],
            "expected format 'hepgen-generator', found 'hepgen-checkpoint'",
        ),
        "newer layout": (
            ["sample", newer, "-n", 10, "-o", out],
            f"hepgen sample: error: {newer} has generator layout version 4; this hepgen reads version 3",
        ),
        "zero events": (
            ["sample", path, "-n", 0, "-o", out],
            "hepgen sample: error: argument -n/--events: must be a positive integer, found '0'",
        ),
        "negative events": (
            ["sample", path, "-n", -5, "-o", out],
            "argument -n/--events: must be a positive integer, found '-5'",
        ),
        "bad suffix": (
            ["sample", path, "-n", 10, "-o", tmp_path / "out.csv"],
            "cannot write '.csv'; expected one of ['.parquet', '.root']",
        ),
        "existing output": (
            ["sample", path, "-n", 10, "-o", exists],
            f"hepgen sample: error: output {exists} exists; pass --force to overwrite it",
        ),
        "missing file": (
            ["sample", tmp_path / "none.pt", "-n", 10, "-o", out],
            "none.pt does not exist",
        ),
    }


def test_bad_arguments_give_one_line_and_no_output(path, tmp_path):
    for case, (args, expected) in _bad(tmp_path, path).items():
        result = hepgen(*args, check=False)
        assert result.returncode != 0, case
        assert expected in result.stderr, (case, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, case
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "out.csv").exists()
    assert (tmp_path / "exists.root").read_bytes() == b"keep"
    forced = hepgen("sample", path, "-n", 50, "-o", tmp_path / "exists.root", "--force")
    assert uproot.open(tmp_path / "exists.root")["events"].num_entries > 40, forced.stdout


def test_a_failed_draw_leaves_no_file(path, tmp_path):
    output = tmp_path / "strict.root"
    result = hepgen(
        "sample", path, "-n", 2000, "-o", output, "--max-removed-fraction", 0, check=False
    )
    assert result.returncode == 1 and "more than sample.max_removed_fraction = 0.0" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_sample_given_a_condition_file(conditional, tmp_path):
    given = condition_file(tmp_path)
    rows = pd.read_parquet(given)
    out = tmp_path / "one.parquet"
    options = ["--seed", 4, "--device", "cpu", "--batch-size", 16]
    result = hepgen("sample", conditional, "--condition", given, "-o", out, *options)
    table = pd.read_parquet(out)
    assert f"wrote {len(table)} events for 30 condition rows to {out}" in result.stdout
    expected = load_generator(conditional).sample(
        condition=rows, seed=4, batch_size=16, device="cpu"
    )
    pd.testing.assert_frame_equal(table, expected)
    np.testing.assert_array_equal(
        table["condition_met"], rows["met"].to_numpy()[table["condition_row"]]
    )
    many = tmp_path / "many.root"
    hepgen("sample", conditional, "--condition", given, "-n", 4, "-o", many, *options)
    tree = uproot.open(many)["events"]
    arrays = tree.arrays(["nlep", "condition_ll_m", "condition_row", "weight"], library="np")
    row = arrays["condition_row"]
    assert 30 < len(row) <= 120 and np.bincount(row).max() <= 4 and (np.diff(row) >= 0).all()
    np.testing.assert_array_equal(arrays["condition_ll_m"], rows["ll_m"].to_numpy()[row])
    assert (arrays["nlep"] == 2).all() and (arrays["weight"] == 1.0).all()
    from_root = tmp_path / "from_root.parquet"
    root_rows = condition_file(tmp_path, suffix=".root")
    hepgen(
        "sample", conditional, "--condition", root_rows, "--tree", "gen", "-o", from_root, *options
    )
    pd.testing.assert_frame_equal(pd.read_parquet(from_root), table)


def test_condition_mistakes_give_one_line(conditional, path, tmp_path):
    given = condition_file(tmp_path)
    lacking = tmp_path / "lacking.parquet"
    pd.read_parquet(given).drop(columns="met").to_parquet(lacking)
    out = tmp_path / "out.parquet"
    cases = {
        "missing column": (
            ["sample", conditional, "--condition", lacking, "-o", out],
            f"hepgen sample: error: condition file {lacking} lacks the condition columns ['met']",
        ),
        "no condition": (
            ["sample", conditional, "-n", 10, "-o", out],
            f"generator {conditional} is conditional: give --condition FILE.parquet|FILE.root "
            "with the columns ['ll_m', 'met']",
        ),
        "unconditional": (
            ["sample", path, "--condition", given, "-n", 10, "-o", out],
            f"generator {path} is unconditional: it takes no --condition",
        ),
        "no events": (["sample", path, "-o", out], "-n/--events is required"),
        "no tree": (
            [
                "sample",
                conditional,
                "--condition",
                condition_file(tmp_path, suffix=".root"),
                "-o",
                out,
            ],
            "has no tree 'events' (pass --tree)",
        ),
        "missing file": (
            ["sample", conditional, "--condition", tmp_path / "none.parquet", "-o", out],
            f"condition file {tmp_path / 'none.parquet'} does not exist",
        ),
    }
    for case, (args, expected) in cases.items():
        result = hepgen(*args, check=False)
        assert result.returncode == 1, case
        assert expected in result.stderr, (case, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, case
    assert not out.exists()


def test_info_names_the_condition_columns(conditional, path):
    text = hepgen("info", conditional).stdout
    assert "layout version 3" in text
    assert (
        "conditions:  ll_m, met (given in physical units by sample --condition; returned "
        "ll_m as condition_ll_m, met as condition_met, with condition_row)"
    ) in text
    facts = json.loads(hepgen("info", conditional, "--json").stdout)
    assert facts["conditions"] == ["ll_m", "met"] and facts["features"][-2:] == ["ll_m", "met"]
    assert "conditions:  none (unconditional)" in hepgen("info", path).stdout


def test_export_of_a_conditional_generator_takes_the_condition(conditional, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    output = tmp_path / "flow.onnx"
    hepgen("export", conditional, "-o", output)
    session = ort.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    generator = load_generator(conditional)
    inputs = [(i.name, i.shape[1]) for i in session.get_inputs()]
    assert inputs == [("noise", len(generator.features) - 2), ("condition", 2)]
    rows = generator.conditioning.encode(pd.DataFrame({"ll_m": [91.0, 120.0], "met": [5.0, 40.0]}))
    noise = np.random.default_rng(1).normal(size=(2, inputs[0][1])).astype(np.float32)
    (events,) = session.run(None, {"noise": noise, "condition": rows})
    np.testing.assert_array_equal(events[:, -2:], rows)  # transformed space, conditions last
