"""The generator-level lepton filter: its cut, what it does to a real Pythia run, config checks."""

from __future__ import annotations

import math
import subprocess
import sys

import awkward as ak
import numpy as np
import pytest
import pythia8mc
import yaml
from workflow_run import TINY, copy_workflow

from hepgen.errors import HepgenError
from hepgen.simulate import simulate
from hepgen.simulate.processes import NO_UPPER_CUT, PROCESSES, LeptonFilter, check_filter

MUON_MASS = 0.10566  # GeV


def process_record(*leptons: tuple[int, float, float]) -> pythia8mc.Event:
    """A Z and its final-state leptons (PDG id, pT [GeV], η), as Pythia's process record holds them."""
    event = pythia8mc.Event()
    event.init()
    event.append(23, -22, 0, 0, 0.0, 0.0, 0.0, 91.19, 91.19)
    for pdg, pt, eta in leptons:
        pz = pt * math.sinh(eta)
        energy = math.sqrt(pt**2 + pz**2 + MUON_MASS**2)
        event.append(pdg, 23, 0, 0, pt, 0.0, pz, energy, MUON_MASS)
    return event


@pytest.mark.parametrize(
    ("leptons", "vetoed"),
    [
        (((13, 30.0, 0.5), (-13, 25.0, -2.9)), False),
        (((13, 30.0, 0.5), (-13, 14.0, 0.0)), True),  # below the pT cut
        (((13, 30.0, 3.1), (-13, 25.0, 0.0)), True),  # beyond the |η| cut
        (((13, 30.0, -3.1), (-13, 25.0, 0.0)), True),
        (((11, 5.0, 4.0), (13, 30.0, 0.0), (-13, 25.0, 0.0)), False),  # not a filtered flavour
    ],
)
def test_filter_vetoes_an_event_with_any_lepton_outside(leptons, vetoed):
    hook = LeptonFilter((13,), pt_min=15.0, abs_eta_max=3.0)
    assert hook.canVetoProcessLevel()
    assert hook.doVetoProcessLevel(process_record(*leptons)) is vetoed
    assert (hook.tried, hook.accepted) == (1, int(not vetoed))


def test_an_open_cut_cuts_nothing():
    only_eta = LeptonFilter((13,), pt_min=0.0, abs_eta_max=2.0)
    assert not only_eta.doVetoProcessLevel(process_record((13, 0.5, 0.1), (-13, 0.2, -1.9)))
    only_pt = LeptonFilter((13,), pt_min=10.0, abs_eta_max=NO_UPPER_CUT)
    assert not only_pt.doVetoProcessLevel(process_record((13, 11.0, 6.0), (-13, 12.0, -8.0)))
    for name in ("dy_ll", "z_gamma"):  # off unless asked for
        assert PROCESSES[name].hook(PROCESSES[name].defaults) is None


def selected_fraction(branches: dict) -> float:
    """Fraction of events with two muons of pT > 20 GeV and |η| < 2.5 (the default selection)."""
    good = (branches["lep_pt"] > 20.0) & (abs(branches["lep_eta"]) < 2.5)
    return float(ak.mean(ak.sum(good, axis=1) >= 2))


def test_filtered_drell_yan_keeps_the_selected_events_and_scales_the_cross_section():
    plain, plain_stats = simulate("dy_ll", events=400, seed=21)
    cuts = {"filter_min_pt": 15.0, "filter_max_abs_eta": 3.0}
    filtered, stats = simulate("dy_ll", events=400, seed=21, options=cuts)
    # measured at 20,000 events: 58 % of hard processes pass, 39 % → 67 % selected
    assert 0.48 < stats["veto_acceptance"] < 0.68
    assert "veto_acceptance" not in plain_stats
    assert selected_fraction(filtered) > selected_fraction(plain) + 0.15
    # sigmaGen counts only the accepted hard processes
    expected = stats["veto_acceptance"] * plain_stats["sigma_pb"]
    error = math.hypot(stats["sigma_err_pb"], plain_stats["sigma_err_pb"])
    assert stats["sigma_pb"] == pytest.approx(expected, abs=4 * error + 0.03 * expected)
    # the prompt muons keep the hard process's acceptance up to radiation and recoil
    eta = ak.flatten(filtered["gen_lep_eta"][:, :2])
    assert np.mean(np.abs(ak.to_numpy(eta)) < 3.3) > 0.97
    assert np.mean(np.abs(ak.to_numpy(ak.flatten(plain["gen_lep_eta"][:, :2]))) < 3.3) < 0.9


LEPTONS = {"name": "mu", "prefix": "lep_", "min_pt": 20.0, "max_abs_eta": 2.5}


def test_a_filter_looser_than_the_selection_passes():
    cuts = {"filter_min_pt": 15.0, "filter_max_abs_eta": 3.0, "lepton": "mu", "lep_iso_max": 0.2}
    check_filter("dy_ll", cuts, [LEPTONS], "datasets.dy.simulate")
    jets = {"name": "jet", "prefix": "jet_", "min_pt": 10.0}  # not the filtered leptons
    check_filter("dy_ll", cuts, [jets], "datasets.dy.simulate")
    check_filter("ttbar_semilep", {}, [LEPTONS], "datasets.tt.simulate")  # no filter option


@pytest.mark.parametrize(
    ("cuts", "objects", "needle"),
    [
        ({"filter_min_pt": 20.0}, [LEPTONS], "filter_min_pt: 20 GeV is not below"),
        ({"filter_min_pt": 25.0}, [LEPTONS], "(min_pt = 20 GeV)"),
        ({"filter_max_abs_eta": 2.4}, [LEPTONS], "filter_max_abs_eta: 2.4 is not above"),
        ({"filter_min_pt": 5.0}, [{"name": "mu", "prefix": "lep_"}], "(min_pt = 0 GeV)"),
        ({"filter_max_abs_eta": 3.0}, [{"name": "l", "prefix": "lep_"}], "max_abs_eta = inf"),
    ],
)
def test_a_filter_cutting_into_the_selection_is_refused(cuts, objects, needle):
    with pytest.raises(HepgenError, match="datasets.dy.simulate.filter_") as err:
        check_filter("z_gamma", cuts, objects, "datasets.dy.simulate")
    assert needle in str(err.value)
    assert repr(objects[0]["name"]) in str(err.value)


def test_workflow_refuses_a_tight_filter_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["dy_mumu"]["simulate"]["filter_min_pt"] = 30.0
    path = workdir / "filtered.yaml"
    path.write_text(yaml.safe_dump(config))
    target = "results/dy_mumu/events.parquet"
    cmd = [sys.executable, "-m", "snakemake", "-n", target, "--configfile", str(path)]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    message = "config datasets.dy_mumu.simulate.filter_min_pt: 30 GeV is not below"
    assert message in result.stdout + result.stderr
    assert not (workdir / "results").exists()
