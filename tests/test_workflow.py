"""End to end: the real workflow on a tiny config, from Pythia8 to the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_run import copy_workflow, snakemake


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny"))
    snakemake(workdir)
    snakemake(workdir, "--report", "results/report.html")
    return workdir


@pytest.mark.workflow
def test_every_stage_leaves_its_outputs(tiny_run):
    results = tiny_run / "results"
    expected = [
        "dy_mumu/ntuple/chunk0.root",
        "dy_mumu/ntuple/chunk1.root",
        "dy_mumu/events.parquet",
        "dy_mumu/split/transform.json",
        "dy_mumu/models/bvae/model.pt",
        "dy_mumu/models/bvae/generator.pt",
        "dy_mumu/models/vae/history.csv",
        "dy_mumu/samples/bvae.parquet",
        "dy_mumu/metrics/vae.json",
        "dy_mumu/plots/bvae/histograms.png",
        "dy_mumu/plots/vae/observables.png",
        "dy_mumu/plots/vae/correlations.png",
        "dy_mumu/plots/bvae/latent.png",
        "dy_mumu/plots/bvae/training.png",
        "dy_mumu/samples/cfm+rw.parquet",
        "dy_mumu/metrics/cfm+rw.json",
        "dy_mumu/plots/cfm+rw/weights.png",
        "dy_mumu/samples/bvae.root",
        "dy_mumu/samples/cfm+rw.root",
        "dy_mumu/plots/cfm+rw/observables.png",
        "summary/leaderboard.csv",
        "summary/leaderboard.md",
        "summary/leaderboard.tex",
        "summary/leaderboard.png",
        "report.html",
    ]
    missing = [p for p in expected if not (results / p).is_file()]
    assert not missing
    for log in (tiny_run / "logs").rglob("*.log"):
        assert "Traceback" not in log.read_text(), log


@pytest.mark.workflow
def test_samples_are_physical_events(tiny_run):
    samples = pd.read_parquet(tiny_run / "results/dy_mumu/samples/bvae.parquet")
    truth = pd.read_parquet(tiny_run / "results/dy_mumu/split/test.parquet")
    info = json.loads((tiny_run / "results/dy_mumu/samples/bvae.json").read_text())
    validity = info["validity"]
    assert (
        len(samples) == info["events"] == 500 - validity["removed"] - validity["outside_selection"]
    )
    assert set(samples.columns) >= {"mu1_pt", "mu2_eta", "met", "jet2_pt", "jet1_btag"}
    assert np.isfinite(samples.to_numpy()).all()
    assert (samples["mu1_pt"] > 0).all() and (samples["met"] > 0).all()
    # the muons have the muon mass: E >= |p|
    for k in (1, 2):
        p = samples[f"mu{k}_pt"] * np.cosh(samples[f"mu{k}_eta"])
        assert (samples[f"mu{k}_e"] >= p * (1 - 1e-9)).all()
    # optional jets: an absent jet is exact zero padding, a present one has pT > 0
    for k in (1, 2):
        absent = samples[f"jet{k}_pt"] == 0
        columns = [f"jet{k}_{f}" for f in ("eta", "phi", "e", "btag")]
        assert (samples.loc[absent, columns] == 0).all().all()
    assert 0 < (samples["jet1_pt"] > 0).mean() < 1
    # the selection required two muons with pT > 20 GeV and |eta| < 2.5: the truth and the
    # samples judged against it respect it
    for table in (truth, samples):
        assert (table["mu2_pt"] > 20.0).all()
        assert (table[["mu1_eta", "mu2_eta"]].abs() < 2.5).all().all()


@pytest.mark.workflow
def test_metrics_carry_floors_and_provenance(tiny_run):
    for model in ("vae", "bvae"):
        metrics = json.loads((tiny_run / f"results/dy_mumu/metrics/{model}.json").read_text())
        assert 0.0 <= metrics["auc"]["value"] <= 1.0
        assert 0.0 <= metrics["auc"]["floor"] <= 1.0
        for entry in metrics["w1"]["features"].values():
            assert entry["value"] >= 0 and entry["floor"] >= 0
        assert metrics["memorisation"]["z_u"]["err"] > 0
        assert "m_mumu" in metrics["w1_obs"]["observables"]
        assert "jet1_eta" in metrics["w1"]["features"]
        assert metrics["excluded"]["of"] == metrics["n_generated"] + metrics["excluded"]["events"]
        assert len(metrics["provenance"]["config_hash"]) == 16
    board = pd.read_csv(tiny_run / "results/summary/leaderboard.csv")
    assert sorted(board["model"]) == ["bvae", "cfm", "cfm+rw", "flow_mll", "vae"]
    assert board[["auc_floor", "w1_mean_floor", "fpd_floor", "copy_z_floor"]].notna().all().all()


@pytest.mark.workflow
def test_a_conditional_model_draws_given_the_test_splits_conditions(tiny_run):
    """flow_mll learns p(event | ll_m): each sample is drawn at a test event's dimuon mass, its
    own muons carry that mass, and its metrics are also binned in the mass."""
    results = tiny_run / "results/dy_mumu"
    samples = pd.read_parquet(results / "samples/flow_mll.parquet")
    test = pd.read_parquet(results / "split/test.parquet")
    from hepgen.generator import load_generator
    from hepgen.preprocessing.observables import observables

    asked = samples["condition_ll_m"].to_numpy()
    truth = np.sort(observables(test)["m_mumu"].dropna().to_numpy())
    nearest = truth[np.clip(np.searchsorted(truth, asked), 0, len(truth) - 1)]
    below = truth[np.clip(np.searchsorted(truth, asked) - 1, 0, len(truth) - 1)]
    gap = np.minimum(np.abs(nearest - asked), np.abs(below - asked)) / asked
    assert (gap < 1e-3).mean() > 0.99  # the test events' own masses
    own = observables(samples)["m_mumu"].to_numpy()
    assert np.isfinite(own).mean() > 0.95
    # events outside the dataset's selection keep their condition rows: counted, not dropped
    info = json.loads((results / "samples/flow_mll.json").read_text())
    assert info["validity"]["outside_selection"] == 0 and len(samples) == info["events"]
    pt = samples[["mu1_pt", "mu2_pt"]].to_numpy(np.float32)
    eta = samples[["mu1_eta", "mu2_eta"]].to_numpy(np.float32)
    outside = ((pt <= 20.0) | (np.abs(eta) >= 2.5)).any(axis=1)  # the two muons the tiny run needs
    assert info["validity"]["outside_selection_kept"] == outside.sum()
    np.testing.assert_allclose(own[np.isfinite(own)], asked[np.isfinite(own)], rtol=1e-3)
    metrics = json.loads((results / "metrics/flow_mll.json").read_text())
    bins = metrics["conditional"]["conditions"]["ll_m"]["bins"]
    assert len(bins) == 5 and all("w1" in b for b in bins)
    generator = load_generator(results / "models/flow_mll/generator.pt")
    assert generator.condition_columns == ["ll_m"]
    masses = np.tile([91.2, 95.0], 20)
    drawn = generator.sample(
        condition=pd.DataFrame({"ll_m": masses}), seed=1, max_removed_fraction=0.5
    )
    assert len(drawn) > 20  # a two-epoch model: some events are unusable and removed
    np.testing.assert_array_equal(drawn["condition_ll_m"], masses[drawn["condition_row"]])


@pytest.mark.workflow
def test_the_reweighted_row_weights_the_plain_samples(tiny_run):
    """cfm+rw: the same events as cfm with finite weights of mean 1, clipped, ESS reported."""
    results = tiny_run / "results/dy_mumu"
    plain = pd.read_parquet(results / "samples/cfm.parquet")
    refined = pd.read_parquet(results / "samples/cfm+rw.parquet")
    pd.testing.assert_frame_equal(refined.drop(columns="weight"), plain)
    info = json.loads((results / "samples/cfm+rw.json").read_text())["refine"]
    w = refined["weight"].to_numpy()
    used = w[w > 0]
    assert np.isfinite(w).all() and (w >= 0).all()
    assert len(used) == len(w) - info["unusable"]
    assert used.mean() == pytest.approx(1.0)
    assert info["folds"] == 3 and info["clip"] == 20.0
    assert used.max() == pytest.approx(info["max_weight"])
    assert info["ess"] == pytest.approx(used.sum() ** 2 / (used**2).sum())
    metrics = {
        name: json.loads((results / f"metrics/{name}.json").read_text())
        for name in ("cfm", "cfm+rw")
    }
    assert metrics["cfm+rw"]["refine"]["ess_fraction"] == pytest.approx(info["ess_fraction"])
    # the data-copying test takes no weights: the plain row's value, marked as such
    assert metrics["cfm+rw"]["memorisation"]["weighted"] is False
    z = [metrics[name]["memorisation"]["z_u"]["value"] for name in ("cfm", "cfm+rw")]
    assert z[0] == pytest.approx(z[1])
    board = pd.read_csv(tiny_run / "results/summary/leaderboard.csv").set_index("model")
    assert board.loc["cfm+rw", "ess_fraction"] == pytest.approx(info["ess_fraction"])
    assert np.isnan(board.loc["cfm", "ess_fraction"])


@pytest.mark.workflow
def test_root_samples_read_back_through_the_datasets_own_ingestion(tiny_run):
    """sample.format: root writes each sample in the input's schema; ingestion gives it back."""
    import uproot
    import yaml
    from workflow_run import TINY

    from hepgen.generator import apply_selection, load_generator
    from hepgen.io import DatasetSpec, ingest

    results = tiny_run / "results/dy_mumu"
    entry = yaml.safe_load(TINY.read_text())["datasets"]["dy_mumu"]
    sigma = load_generator(results / "models/cfm/generator.pt").cross_section
    per_event = sigma["sigma_pb"] * sigma["efficiency"] / 500  # sigma * efficiency / drawn
    for name in ("bvae", "cfm+rw"):
        path = results / f"samples/{name}.root"
        tree = uproot.open(path)["events"]
        assert {"nlep", "lep_pt", "lep_charge", "njet", "jet_btag", "met", "weight"} <= set(
            tree.keys()
        )
        spec = DatasetSpec.from_config(entry, files=[str(path)])
        table = pd.read_parquet(results / f"samples/{name}.parquet")
        if "weight" in table:  # unusable events of a reweighted sample have weight 0
            table = table[table["weight"] > 0].reset_index(drop=True)
        expected, _ = apply_selection(table, spec)
        back, _ = ingest(spec)
        assert len(back) == len(expected) > len(table) // 2  # 2-epoch models: many fail the cuts
        for column in ("mu1_pt", "mu2_eta", "mu1_charge", "jet1_pt", "met"):
            np.testing.assert_allclose(back[column], expected[column], rtol=3e-6, atol=3e-5)
        weights = expected["weight"].to_numpy() if "weight" in expected else 1.0
        np.testing.assert_allclose(back["weight"], per_event * weights, rtol=1e-6)


@pytest.mark.workflow
def test_a_refined_models_generator_file_draws_weighted_events(tiny_run):
    """cfm has refine: its generator.pt carries the refine stage's classifiers; bvae's none."""
    from hepgen.generator import load_generator

    results = tiny_run / "results/dy_mumu"
    info = json.loads((results / "samples/cfm+rw.json").read_text())["refine"]
    refined = load_generator(results / "models/cfm/generator.pt")
    assert refined.reweighter is not None
    assert len(refined.reweighter.classifiers) == info["folds"] == 3
    assert refined.reweighter.clip == info["clip"]
    events = refined.sample(400, seed=3)
    w = events["weight"].to_numpy()
    assert np.isfinite(w).all() and (w >= 0).all() and w.mean() == pytest.approx(1.0)
    assert w.std() > 0  # the classifiers tell these events apart
    plain = load_generator(results / "models/bvae/generator.pt")
    assert plain.reweighter is None and "weight" not in plain.sample(100, seed=3)


@pytest.mark.workflow
def test_reweighting_reads_the_validation_split_only(tiny_run):
    """The refine job's inputs: the model's samples and the validation split, never test/train."""
    result = snakemake(tiny_run, "-n", "--forcerun", "refine_model")
    text = result.stdout + result.stderr
    block = text[text.index("rule refine_model:") :]
    inputs = next(line for line in block.splitlines() if line.strip().startswith("input:"))
    assert "results/dy_mumu/split/val.parquet" in inputs
    assert "results/dy_mumu/samples/cfm.parquet" in inputs
    assert "test.parquet" not in inputs and "train.parquet" not in inputs


@pytest.mark.workflow
def test_rerun_is_a_no_op_and_dry_run_lists_nothing(tiny_run):
    result = snakemake(tiny_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr
