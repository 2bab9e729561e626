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
        "dy_mumu/models/vae/history.csv",
        "dy_mumu/samples/bvae.parquet",
        "dy_mumu/metrics/vae.json",
        "dy_mumu/plots/bvae/histograms.png",
        "dy_mumu/plots/vae/observables.png",
        "dy_mumu/plots/vae/correlations.png",
        "dy_mumu/plots/bvae/latent.png",
        "dy_mumu/plots/bvae/training.png",
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
    assert len(samples) == info["events"] == 500 - info["validity"]["removed"]
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
    # the selection required two muons with pT > 20 GeV: truth respects it
    assert (truth["mu2_pt"] > 20.0).all()


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
    assert sorted(board["model"]) == ["bvae", "vae"]
    assert board[["auc_floor", "w1_mean_floor", "fpd_floor", "copy_z_floor"]].notna().all().all()


@pytest.mark.workflow
def test_rerun_is_a_no_op_and_dry_run_lists_nothing(tiny_run):
    result = snakemake(tiny_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr
