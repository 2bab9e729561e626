"""Process tables and option validation."""

from __future__ import annotations

import pytest

from hepgen.errors import HepgenError
from hepgen.simulate.generate import resolve_options
from hepgen.simulate.processes import PROCESSES, process_options


def test_every_process_has_settings_for_its_defaults():
    for name, process in PROCESSES.items():
        _, opts = process_options(name, {})
        lines = process.settings(opts)
        assert lines, name
        assert all(" = " in line for line in lines)


def test_lepton_option_forces_the_decay_flavour():
    _, mu = process_options("dy_ll", {"lepton": "mu"})
    _, e = process_options("dy_ll", {"lepton": "e"})
    assert "23:onIfAny = 13" in PROCESSES["dy_ll"].settings(mu)
    assert "23:onIfAny = 11" in PROCESSES["dy_ll"].settings(e)
    _, tt = process_options("ttbar_semilep", {"lepton": "any"})
    assert "24:onIfAny = 1 2 3 4 5 11 13" in PROCESSES["ttbar_semilep"].settings(tt)


def test_numeric_options_reach_pythia():
    _, opts = process_options("z_gamma", {"pthat_min": 25, "mll_min": 70.0})
    lines = PROCESSES["z_gamma"].settings(opts)
    assert "PhaseSpace:pTHatMin = 25.0" in lines
    assert "23:mMin = 70.0" in lines


def test_unknown_process_names_it_and_lists_valid_ones():
    with pytest.raises(HepgenError, match="'w_jets'") as err:
        resolve_options("w_jets", {})
    assert all(name in str(err.value) for name in PROCESSES)


def test_unknown_option_names_it_and_lists_valid_ones():
    with pytest.raises(HepgenError, match="'flavour'") as err:
        resolve_options("dy_ll", {"flavour": "mu"})
    assert "lepton" in str(err.value)
    assert "jet_pt_min" in str(err.value)


def test_option_of_another_process_is_rejected():
    with pytest.raises(HepgenError, match="pthat_min"):
        resolve_options("dy_ll", {"pthat_min": 20.0})


@pytest.mark.parametrize(
    ("process", "options", "match"),
    [
        ("dy_ll", {"lepton": "tau"}, "'tau'"),
        ("dy_ll", {"lepton": "any"}, "'any'"),
        ("z_gamma", {"pthat_min": "10"}, "pthat_min"),
        ("dy_ll", {"mll_min": True}, "mll_min"),
    ],
)
def test_bad_option_values_raise(process, options, match):
    with pytest.raises(HepgenError, match=match):
        resolve_options(process, options)


def test_resolve_splits_process_and_detector_options():
    process, opts, detector = resolve_options("ttbar_semilep", {"lepton": "e", "jet_pt_min": 25.0})
    assert process.name == "ttbar_semilep"
    assert opts == {"lepton": "e"}
    assert detector.jet_pt_min == 25.0
