"""Stitched phase-space slices: mass cuts in Pythia, slice weights, config checks, chunk plan."""

from __future__ import annotations

import subprocess
import sys

import awkward as ak
import numpy as np
import pytest
import yaml
from workflow_run import TINY, copy_workflow

from hepgen.errors import HepgenError
from hepgen.simulate import simulate
from hepgen.simulate.processes import PROCESSES, process_options
from hepgen.simulate.slices import chunk_plan, phase_space, stitch_weights

# Drell–Yan in three disjoint slices of m(ℓℓ) [GeV]: [50, 120), [120, 150), [150, ∞). The middle
# one puts events on both sides of the 150 GeV boundary (an [50, 150) slice of a few hundred
# events has about 2 in [130, 150)); the last is split over two chunks. The counts differ from
# slice to slice, so unit weights would not give a continuous spectrum.
SLICED = {
    "process": "dy_ll",
    "slices": [
        {"mll_max": 120, "events": 300, "chunks": 1},
        {"mll_min": 120, "mll_max": 150, "events": 600, "chunks": 1},
        {"mll_min": 150, "events": 150, "chunks": 2},
    ],
}


def dilepton_mass(branches: dict, prefix: str) -> np.ndarray:
    """Invariant mass [GeV] of the two leading ``<prefix>*`` leptons per event; NaN with fewer."""
    lep = ak.zip({k: branches[f"{prefix}{k}"] for k in ("pt", "eta", "phi", "e")})
    mass = np.full(len(lep), np.nan)
    two = ak.to_numpy(ak.num(lep) >= 2)
    a, b = lep[two][:, 0], lep[two][:, 1]
    px = a.pt * np.cos(a.phi) + b.pt * np.cos(b.phi)
    py = a.pt * np.sin(a.phi) + b.pt * np.sin(b.phi)
    pz = a.pt * np.sinh(a.eta) + b.pt * np.sinh(b.eta)
    mass[two] = ak.to_numpy(np.sqrt(np.maximum((a.e + b.e) ** 2 - px**2 - py**2 - pz**2, 0.0)))
    return mass


@pytest.fixture(scope="module")
def stitched():
    """Every chunk of ``SLICED`` as the workflow runs it: (chunk, branches, stats, weights)."""
    out = []
    for chunk in chunk_plan(SLICED, "datasets.dy.simulate"):
        branches, stats = simulate(
            "dy_ll", events=chunk.events, seed=100 + chunk.index, options=chunk.options
        )
        weights, _ = stitch_weights(branches["weight"], stats["sigma_pb"], chunk.slice_events)
        out.append((chunk, branches, stats, weights))
    return out


def of_slice(stitched, index: int, prefix: str) -> np.ndarray:
    masses = [dilepton_mass(b, prefix) for c, b, _, _ in stitched if c.slice == index]
    mass = np.concatenate(masses)
    return mass[~np.isnan(mass)]


# ---- process options: mll_max ---------------------------------------------------------


def test_mll_max_reaches_pythia_only_when_set():
    for name in ("dy_ll", "z_gamma"):
        _, opts = process_options(name, {})
        assert not any(
            "mHatMax" in line or "mMax" in line for line in PROCESSES[name].settings(opts)
        )
    _, opts = process_options("dy_ll", {"mll_min": 50, "mll_max": 150})
    assert "PhaseSpace:mHatMax = 150.0" in PROCESSES["dy_ll"].settings(opts)
    _, opts = process_options("z_gamma", {"mll_max": 80.0})
    assert "23:mMax = 80.0" in PROCESSES["z_gamma"].settings(opts)


@pytest.mark.parametrize(
    ("process", "options"),
    [
        ("dy_ll", {"mll_min": 150.0, "mll_max": 150.0}),
        ("dy_ll", {"mll_max": 40.0}),  # below the default mll_min of 50 GeV
        ("z_gamma", {"mll_min": 90.0, "mll_max": 60.0}),
        ("dy_ll", {"mll_max": -1.0}),
    ],
)
def test_mll_max_at_or_below_mll_min_is_refused(process, options):
    with pytest.raises(HepgenError, match=r"simulate\.mll_max: expected 0 \(no upper cut\)") as err:
        process_options(process, options)
    assert "mll_min" in str(err.value)


def test_z_gamma_mll_max_caps_the_dilepton_mass():
    branches, _ = simulate("z_gamma", events=100, seed=5, options={"mll_max": 80.0})
    mass = dilepton_mass(branches, "gen_lep_")
    mass = mass[~np.isnan(mass)]
    assert len(mass) > 50
    assert mass.max() < 80.0  # photon radiation only lowers m(ℓℓ) below the generated mass
    assert mass.min() > 30.0


# ---- Pythia: the slices' mass ranges --------------------------------------------------


def test_mll_min_moves_the_reco_mass_above_the_cut(stitched):
    mass = of_slice(stitched, 2, "lep_")
    assert len(mass) > 50
    assert np.mean(mass > 140.0) > 0.9  # below only through photon radiation and resolution
    assert np.median(mass) > 150.0


@pytest.mark.parametrize(("index", "low", "high"), [(0, 50.0, 120.0), (1, 120.0, 150.0)])
def test_mll_max_cuts_the_mass_above(stitched, index, low, high):
    truth = of_slice(stitched, index, "gen_lep_")
    assert truth.max() < high
    assert low - 20.0 < np.median(truth) < high
    reco = of_slice(stitched, index, "lep_")
    assert np.mean(reco > high + 5.0) < 0.01


# ---- weights ----------------------------------------------------------------------------


def test_stitch_weights_formula():
    weights, scale = stitch_weights(np.array([1.0, 2.0]), sigma_pb=10.0, slice_events=4)
    np.testing.assert_allclose(weights, [2.5, 5.0])
    assert scale == 2.5
    with pytest.raises(HepgenError, match="positive cross section"):
        stitch_weights(np.ones(3), sigma_pb=0.0, slice_events=3)
    with pytest.raises(HepgenError, match="below the chunk's 3"):
        stitch_weights(np.ones(3), sigma_pb=1.0, slice_events=2)


def test_weights_of_each_slice_sum_to_its_cross_section(stitched):
    sums = []
    for index in range(3):
        chunks = [(c, s, w) for c, _, s, w in stitched if c.slice == index]
        total = sum(w.sum() for _, _, w in chunks)
        # Σ w over the slice = the event-weighted mean of its chunks' σ estimates
        mean = sum(c.events * s["sigma_pb"] for c, s, _ in chunks) / chunks[0][0].slice_events
        assert total == pytest.approx(mean, rel=1e-9)
        for _, s, _ in chunks:
            assert abs(s["sigma_pb"] - mean) < 4.0 * s["sigma_err_pb"] + 1e-12
        sums.append(total)
    low, middle, high = sums
    assert high < 0.01 * low  # the rare region: m(ℓℓ) > 150 GeV is ~0.4 % of m(ℓℓ) > 50 GeV
    assert 1000.0 < low < 2500.0 and 1.0 < middle < 50.0 and 1.0 < high < 30.0
    # the slices add up to the inclusive cross section of m(ℓℓ) > 50 GeV
    _, inclusive = simulate("dy_ll", events=200, seed=99)
    error = np.hypot(inclusive["sigma_err_pb"], stitched[0][2]["sigma_err_pb"])
    assert sum(sums) == pytest.approx(inclusive["sigma_pb"], abs=4.0 * error)


def test_stitched_mass_spectrum_is_continuous_at_the_slice_boundary(stitched):
    mass = np.concatenate([dilepton_mass(b, "gen_lep_") for _, b, _, _ in stitched])
    weights = np.concatenate([w for *_, w in stitched])
    below = (mass >= 130.0) & (mass < 150.0)
    above = (mass >= 150.0) & (mass < 170.0)
    assert below.sum() > 50 and above.sum() > 20
    ratio = weights[below].sum() / weights[above].sum()
    # dσ/dm falls by about 2 from [130, 150) to [150, 170) (the Z tail and γ* ∝ 1/m³)
    assert 1.0 < ratio < 3.5, ratio
    # the test can tell: without the slice weights the ratio is the events' ratio (≈ 5)
    assert below.sum() / above.sum() > 1.5 * ratio


# ---- the chunk plan and its config checks --------------------------------------------


def test_chunks_are_numbered_across_slices_with_their_options():
    sim = {
        **SLICED,
        "lepton": "e",
        "jet_pt_min": 25.0,
        "ecm": 13600.0,
        "events": 1050,
        "chunks": 4,
    }
    plan = chunk_plan(sim, "datasets.dy.simulate")
    assert [c.index for c in plan] == [0, 1, 2, 3]
    assert [c.events for c in plan] == [300, 600, 75, 75]
    assert [c.slice for c in plan] == [0, 1, 2, 2]
    assert [c.slice_events for c in plan] == [300, 600, 150, 150]
    assert plan[0].options == {"lepton": "e", "jet_pt_min": 25.0, "mll_max": 120}
    assert plan[3].options == {"lepton": "e", "jet_pt_min": 25.0, "mll_min": 150}
    assert plan[1].slice_options == {"mll_min": 120, "mll_max": 150}
    odd = chunk_plan({"process": "dy_ll", "slices": [{"events": 7, "chunks": 3}]})
    assert [c.events for c in odd] == [3, 2, 2]


def test_without_slices_the_plan_is_the_even_split():
    sim = {"process": "dy_ll", "lepton": "mu", "events": 10, "chunks": 3, "ecm": 13000.0}
    plan = chunk_plan(sim)
    assert [c.events for c in plan] == [4, 3, 3]
    assert all(c.slice is None and c.slice_events is None for c in plan)
    assert plan[0].options == {"lepton": "mu"}


def test_phase_space_intervals():
    _, opts = process_options("z_gamma", {"mll_min": 60.0, "mll_max": 120.0})
    assert phase_space("z_gamma", opts) == {"mll": (60.0, 120.0), "pthat": (10.0, np.inf)}
    _, opts = process_options("dy_ll", {})
    assert phase_space("dy_ll", opts) == {"mll": (50.0, np.inf)}


def test_adjacent_and_gapped_slices_are_disjoint():
    for bounds in ([(50, 150), (150, 0)], [(60, 80), (100, 120), (200, 0)]):
        slices = [{"mll_min": a, "mll_max": b, "events": 10, "chunks": 1} for a, b in bounds]
        assert len(chunk_plan({"process": "dy_ll", "slices": slices})) == len(bounds)


def _slices(*entries):
    return {"process": "dy_ll", "slices": list(entries)}


@pytest.mark.parametrize(
    ("sim", "needles"),
    [
        (
            _slices(
                {"mll_min": 50, "mll_max": 150, "events": 10, "chunks": 1},
                {"mll_min": 100, "events": 10, "chunks": 1},
            ),
            ["datasets.dy.simulate.slices: slices 0 and 1 overlap", "share [100, 150)"],
        ),
        (
            _slices(
                {"mll_min": 150, "events": 10, "chunks": 1},
                {"mll_min": 50, "events": 10, "chunks": 1},
            ),
            ["slices 0 and 1 overlap", "[150, ∞) and [50, ∞) share [150, ∞)"],
        ),
        (
            {
                "process": "z_gamma",
                "slices": [
                    {"pthat_min": 10, "events": 10, "chunks": 1},
                    {"pthat_min": 50, "events": 10, "chunks": 1},
                    {"mll_min": 50, "mll_max": 80, "pthat_min": 200, "events": 10, "chunks": 1},
                ],
            },
            ["slices 0 and 1 overlap", "pthat [10, ∞) and [50, ∞) share [50, ∞)"],
        ),
        (
            {**_slices({"mll_min": 150, "events": 10, "chunks": 1}), "events": 20},
            ["datasets.dy.simulate.events: 20 differs from the sum", "slices (10)"],
        ),
        (
            {**_slices({"mll_min": 150, "events": 10, "chunks": 2}), "chunks": 1},
            ["datasets.dy.simulate.chunks: 1 differs from the sum", "slices (2)"],
        ),
        (
            _slices({"mll_max": 150, "events": 10, "chunks": 1}, {"mll_min": 150, "events": 10}),
            ["datasets.dy.simulate.slices[1]: ['chunks'] required"],
        ),
        (
            _slices({"mll_min": 150, "events": 10, "chunks": 0}),
            ["datasets.dy.simulate.slices[0].chunks: expected an integer ≥ 1, found 0"],
        ),
        (
            _slices({"mll_min": 150, "events": 2, "chunks": 3}),
            ["datasets.dy.simulate.slices[0]: 3 chunks for 2 events"],
        ),
        (
            _slices({"mll_min": 150, "mll_max": 100, "events": 10, "chunks": 1}),
            ["datasets.dy.simulate.slices[0]: simulate.mll_max", "mll_min = 150"],
        ),
        (
            _slices({"jet_pt_min": 30, "events": 10, "chunks": 1}),
            ["datasets.dy.simulate.slices[0]: ['jet_pt_min'] are not options of process"],
        ),
        (_slices(), ["datasets.dy.simulate.slices: expected a non-empty list"]),
        ({"process": "dy_ll", "events": 10}, ["datasets.dy.simulate: ['chunks'] required"]),
    ],
)
def test_bad_slices_name_the_key(sim, needles):
    with pytest.raises(HepgenError) as err:
        chunk_plan(sim, "datasets.dy.simulate")
    for needle in needles:
        assert needle in str(err.value)


# ---- the workflow ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("slices"))


def dry_run(workdir, slices) -> subprocess.CompletedProcess:
    config = yaml.safe_load(TINY.read_text())
    sim = config["datasets"]["dy_mumu"]["simulate"]
    del sim["events"], sim["chunks"]
    sim["slices"] = slices
    path = workdir / "sliced.yaml"
    path.write_text(yaml.safe_dump(config))
    target = "results/dy_mumu/events.parquet"
    cmd = [sys.executable, "-m", "snakemake", "-n", target, "--configfile", str(path)]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)


def test_workflow_runs_one_job_per_chunk_of_every_slice(workdir):
    slices = [
        {"mll_min": 50, "mll_max": 150, "events": 300, "chunks": 2},
        {"mll_min": 150, "events": 200, "chunks": 1},
    ]
    result = dry_run(workdir, slices)
    assert result.returncode == 0, result.stderr[-3000:]
    for k in range(3):
        assert f"results/dy_mumu/ntuple/chunk{k}.root" in result.stdout
    assert "chunk3" not in result.stdout


def test_workflow_refuses_overlapping_slices_before_any_job(workdir):
    slices = [
        {"mll_min": 50, "mll_max": 150, "events": 300, "chunks": 2},
        {"mll_min": 120, "events": 200, "chunks": 1},
    ]
    result = dry_run(workdir, slices)
    assert result.returncode != 0
    message = "config datasets.dy_mumu.simulate.slices: slices 0 and 1 overlap"
    assert message in result.stdout + result.stderr
    assert not (workdir / "results").exists()
