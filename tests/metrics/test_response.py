"""Tests of the binned detector response: efficiency, median response, resolution, summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fastsim_objects import efficiency, fastsim, sigma_pt
from scipy import optimize, stats

from hepgen.errors import HepgenError
from hepgen.metrics.response import (
    IQR_TO_SIGMA,
    ResponseColumns,
    abs_eta_edges,
    has_response_columns,
    response_metrics,
    weighted_quantiles,
)

PT_EDGES = [20.0, 30.0, 50.0, 100.0, 200.0]  # GeV
ETA_EDGES = [0.0, 1.5, 2.5]


def expected_resolution(pt: np.ndarray, widen: float = 1.0) -> float:
    """IQR / 1.349 of the mixture of N(1, sigma(pT_i)) over the objects of a bin."""
    sigma = widen * sigma_pt(pt)

    def quantile(level: float) -> float:
        return optimize.brentq(lambda x: stats.norm.cdf((x - 1.0) / sigma).mean() - level, 0, 2)

    return (quantile(0.75) - quantile(0.25)) / IQR_TO_SIGMA


def run(truth: pd.DataFrame, generated: pd.DataFrame, **options) -> dict:
    options = {"pt_bins": PT_EDGES, "abs_eta_bins": ETA_EDGES, "seed": 3, **options}
    return response_metrics(truth, generated, **options)


def test_resolution_and_efficiency_recover_a_known_gaussian_smearing() -> None:
    truth = fastsim(120_000, 0)
    result = run(truth, fastsim(120_000, 1))
    assert result["quantities"] == ["response", "deta", "dphi"]
    assert len(result["bins"]) == (len(PT_EDGES) - 1) * (len(ETA_EDGES) - 1)
    assert all(b["used"] for b in result["bins"])  # every bin has >= 200 truth objects
    pt, abs_eta = truth["gen_pt"].to_numpy(), truth["gen_eta"].abs().to_numpy()
    for b in result["bins"]:
        inside = (pt >= b["pt_low"]) & (pt < b["pt_high"])
        inside &= (abs_eta >= b["abs_eta_low"]) & (abs_eta < b["abs_eta_high"])
        t = b["truth"]
        assert t["objects"] == inside.sum()
        found = inside & (truth["reco_found"] == 1).to_numpy()
        expected = expected_resolution(pt[found])
        resolution = t["resolution"]["response"]
        assert resolution["value"] == pytest.approx(expected, abs=4 * resolution["err"])
        # the bootstrap error is the asymptotic one of IQR / 1.349, 1.166 sigma / sqrt(n)
        assert resolution["err"] == pytest.approx(1.166 * expected / np.sqrt(found.sum()), rel=0.3)
        median = t["median"]["response"]
        assert median["value"] == pytest.approx(1.0, abs=4 * median["err"])
        assert t["resolution"]["deta"]["value"] == pytest.approx(0.01, rel=0.1)
        eff = t["efficiency"]
        true_eff = efficiency(pt[inside], abs_eta[inside]).mean()
        assert eff["value"] == pytest.approx(true_eff, abs=4 * eff["err"])
        assert eff["err"] == pytest.approx(
            np.sqrt(true_eff * (1 - true_eff) / inside.sum()), rel=0.05
        )
        assert t["pt_mean"] == pytest.approx(pt[inside].mean())
        assert b["resolution_ratio"]["response"]["value"] == pytest.approx(
            1.0, abs=4 * b["resolution_ratio"]["response"]["err"]
        )
    # a faithful generator: efficiencies agree and the summary sits near its floor
    assert result["summary"]["efficiency_p_value"] > 1e-3
    assert result["summary"]["worst_deviation"] < 0.1
    assert result["summary"]["within_tolerance"] is True
    assert result["floor"]["bins_used"] == result["summary"]["bins_used"] == 8
    json.dumps(result, allow_nan=False)


def test_identical_samples_give_unit_ratios_and_a_high_p_value() -> None:
    truth = fastsim(20_000, 2)
    result = run(truth, truth.copy())
    for b in result["bins"]:
        assert {q: r["value"] for q, r in b["resolution_ratio"].items()} == {
            "response": 1.0,
            "deta": 1.0,
            "dphi": 1.0,
        }
    assert result["efficiency_chi2"]["chi2"] == 0.0
    assert result["efficiency_chi2"]["ndf"] == 8
    summary = result["summary"]
    assert summary["efficiency_p_value"] == 1.0
    assert (summary["worst_deviation"], summary["fraction_within"]) == (0.0, 1.0)
    assert summary["within_tolerance"] is True


def test_a_30_percent_wider_resolution_fails_the_10_percent_criterion() -> None:
    truth = fastsim(120_000, 4)
    result = run(truth, fastsim(120_000, 5, widen=1.3))
    for b in result["bins"]:
        ratio = b["resolution_ratio"]["response"]
        assert ratio["value"] == pytest.approx(1.3, abs=4 * ratio["err"])
        assert b["resolution_ratio"]["deta"]["value"] == pytest.approx(1.0, abs=0.1)
    summary = result["summary"]
    assert summary["worst_deviation"] > 0.2
    assert summary["fraction_within"] == 0.0
    assert summary["within_tolerance"] is False
    assert summary["resolution"]["response"]["fraction_within"] == 0.0
    assert summary["resolution"]["deta"]["fraction_within"] == 1.0
    # two halves of the truth pass: the failure is the model's, not the statistics'
    assert result["floor"]["worst_deviation"] < 0.1
    assert result["floor"]["fraction_within"] == 1.0


def test_the_efficiency_chi2_detects_a_10_percent_drop() -> None:
    truth = fastsim(60_000, 6)
    dropped = run(truth, fastsim(60_000, 7, eff_scale=0.9))
    assert dropped["efficiency_chi2"]["ndf"] == 8
    assert dropped["summary"]["efficiency_p_value"] < 1e-6
    for b in dropped["bins"]:
        ratio = b["generated"]["efficiency"]["value"] / b["truth"]["efficiency"]["value"]
        assert ratio == pytest.approx(0.9, abs=0.04)
    same = run(truth, fastsim(60_000, 7))
    assert same["summary"]["efficiency_p_value"] > 1e-3
    assert dropped["floor"]["efficiency_p_value"] > 1e-3


def test_weights_enter_efficiency_and_quantiles() -> None:
    truth = fastsim(20_000, 8)
    weighted = truth.copy()
    # found objects count twice: the efficiency becomes 2 e / (1 + e)
    weighted["weight"] = np.where(truth["reco_found"] == 1, 2.0, 1.0)
    plain, heavy = run(truth, truth), run(weighted, weighted)
    for a, b in zip(plain["bins"], heavy["bins"], strict=True):
        e = a["truth"]["efficiency"]["value"]
        assert b["truth"]["efficiency"]["value"] == pytest.approx(2 * e / (1 + e))
        # uniform weights over found objects leave the quantiles unchanged
        assert b["truth"]["resolution"]["response"]["value"] == pytest.approx(
            a["truth"]["resolution"]["response"]["value"]
        )
    ignored = run(weighted, weighted, columns=ResponseColumns(weight=None))
    assert ignored["bins"][0]["truth"]["efficiency"] == plain["bins"][0]["truth"]["efficiency"]


def test_weighted_quantiles_match_numpy() -> None:
    rng = np.random.default_rng(9)
    values, weights = rng.normal(size=501), rng.uniform(0.1, 2.0, 501)
    counts = np.vstack([np.ones(501), rng.integers(0, 3, 501)])
    levels = (0.1, 0.25, 0.5, 0.75, 0.9)
    got = weighted_quantiles(values, weights, counts, levels)
    for row, c in zip(got, counts, strict=True):
        expected = np.quantile(values, levels, weights=weights * c, method="inverted_cdf")
        np.testing.assert_array_equal(row, expected)


def test_default_bins_and_custom_column_names() -> None:
    truth = fastsim(20_000, 10).rename(columns={"gen_pt": "pt", "reco_response": "r"})
    names = ResponseColumns(pt="pt", response="r")
    assert has_response_columns(truth, names) and not has_response_columns(truth)
    result = response_metrics(truth, truth, seed=1, columns=names, pt_bins=4, min_objects=10)
    pt = truth["pt"].to_numpy()
    assert result["pt_edges"][0] == pt.min() and result["pt_edges"][-1] == pt.max()
    assert len(result["pt_edges"]) == 5
    counts = [sum(b["truth"]["objects"] for b in result["bins"][i::4]) for i in range(4)]
    assert counts == pytest.approx([len(truth) / 4] * 4, rel=0.01)  # equal-population bins
    assert result["abs_eta_edges"] == [0.0, 1.5, 2.5]
    assert result["n_outside"] == {"truth": 0, "generated": 0}
    assert result["columns"]["response"] == "r"
    np.testing.assert_array_equal(abs_eta_edges(np.array([0.1, 3.0])), [0.0, 1.5, 2.5, 5.0])
    np.testing.assert_array_equal(abs_eta_edges(np.array([0.1, 2.5])), [0.0, 1.5, 2.5])
    np.testing.assert_array_equal(abs_eta_edges(np.array([0.1, 6.0])), [0.0, 1.5, 2.5, 5.0, 6.0])


def test_sparse_bins_are_left_out_and_written_as_null() -> None:
    truth = fastsim(4_000, 11)
    result = run(truth, fastsim(4_000, 12), pt_bins=[20.0, 100.0, 199.0, 200.0], min_objects=200)
    last = result["bins"][2]  # almost no object between 199 and 200 GeV
    assert not last["used"]
    assert last["truth"]["resolution"]["response"] == {"value": None, "err": None}
    assert last["resolution_ratio"]["response"] == {"value": None, "err": None}
    # only 20-100 GeV holds 200 truth objects per |eta| bin (of about 2000 objects)
    assert [b["used"] for b in result["bins"]] == [True, False, False] * 2
    assert result["summary"]["bins_used"] == result["efficiency_chi2"]["ndf"] == 2
    json.dumps(result, allow_nan=False)


def test_a_bin_the_generator_never_reconstructs_fails() -> None:
    truth = fastsim(40_000, 14)
    generated = truth.copy()
    lost = generated["gen_pt"] < 30.0
    generated.loc[lost, ["reco_found", "reco_response"]] = [0.0, 1.0]
    result = run(truth, generated)
    first = result["bins"][0]
    assert first["generated"]["found"] == 0
    assert first["resolution_ratio"]["response"] == {"value": None, "err": None}
    summary = result["summary"]
    assert summary["bins_missing"] == 2  # 20-30 GeV in both |eta| bins
    assert summary["worst_deviation"] == 0.0  # every other bin is the truth itself
    assert summary["fraction_within"] == pytest.approx(6 / 8)
    assert summary["within_tolerance"] is False
    assert summary["efficiency_p_value"] < 1e-10
    assert result["floor"]["bins_missing"] == 0


def test_bad_input_is_named() -> None:
    truth = fastsim(2_000, 13)
    with pytest.raises(HepgenError, match=r"generated table lacks the columns \['reco_found'\]"):
        run(truth, truth.drop(columns="reco_found"))
    broken = truth.copy()
    broken.loc[0, "reco_found"] = 0.5
    with pytest.raises(HepgenError, match=r"'reco_found' must hold 0 or 1, found \[0.5\]"):
        run(broken, truth)
    broken = truth.copy()
    broken.loc[3, "reco_response"] = np.nan
    with pytest.raises(HepgenError, match="truth events hold NaN.*'reco_response': 1 of"):
        run(broken, truth)
    with pytest.raises(HepgenError, match="pt_bins must be at least two finite, increasing"):
        run(truth, truth, pt_bins=[50.0, 20.0])
