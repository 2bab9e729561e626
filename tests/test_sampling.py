"""Tests for batched event generation in physical units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.preprocessing.repair import ObjectLayout, repair
from hepgen.sampling import sample_events, write_samples

COLUMNS = ["mu1_pt", "mu1_eta", "met"]


def _inverse(x: np.ndarray, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """A log-standardised pT / standardised eta inverse: float32 (n, 3) → GeV, rad."""
    x = x.astype(np.float64)
    return pd.DataFrame(
        {"mu1_pt": np.exp(3.5 + 0.5 * x[:, 0]), "mu1_eta": 1.2 * x[:, 1], "met": np.exp(x[:, 2])}
    )


@pytest.fixture
def model():
    return build("vae", 3, {"latent": 2, "hidden": 8, "layers": 2}, seed=1)


def test_rows_info_and_units(model) -> None:
    table, info = sample_events(model, 1001, seed=4, batch_size=300, inverse=_inverse)
    assert list(table.columns) == COLUMNS
    assert len(table) == 1001 and table.index.equals(pd.RangeIndex(1001))
    assert (table["mu1_pt"] > 0).all()
    assert info["events"] == 1001 and info["device"] == "cpu"
    assert info["rate_hz"] == pytest.approx(1001 / info["seconds"])


def test_same_seed_same_events(model) -> None:
    first, _ = sample_events(model, 500, seed=7, batch_size=128, inverse=_inverse)
    again, _ = sample_events(model, 500, seed=7, batch_size=128, inverse=_inverse)
    other, _ = sample_events(model, 500, seed=8, batch_size=128, inverse=_inverse)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not np.allclose(first.to_numpy(), other.to_numpy())


def test_non_finite_network_outputs_are_removed_and_counted(model) -> None:
    with torch.no_grad():
        model.decoder.out.bias[1] = float("nan")
    with pytest.raises(HepgenError, match=r"300 of 300 .*non_finite.*sample.max_removed_fraction"):
        sample_events(model, 300, seed=0, batch_size=100, inverse=_inverse)


def test_some_overflowing_events_are_removed_and_the_draw_goes_on(model) -> None:
    cut = float(np.quantile(_draw_inputs(model)[0][:, 0], 0.8))  # a fifth of the events

    def overflowing(x: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        table = _inverse(x, rng)
        table.loc[x[:, 0] > cut, "met"] = np.inf  # as exp overflows in an inverse
        return table

    expected, _ = sample_events(model, 2000, seed=5, batch_size=300, inverse=_inverse)
    table, info = sample_events(
        model, 2000, seed=5, batch_size=300, inverse=overflowing, max_removed_fraction=0.9
    )
    bad = int((~np.isfinite(overflowing(*_draw_inputs(model)).to_numpy())).any(axis=1).sum())
    removed = info["validity"]["removed"]
    assert removed == bad > 0
    assert info["validity"]["reasons"] == {"non_finite": removed}
    assert len(table) == info["events"] == 2000 - removed
    assert np.isfinite(table.to_numpy()).all()
    finite = expected[np.isfinite(overflowing(*_draw_inputs(model))["met"]).to_numpy()]
    np.testing.assert_array_equal(table.to_numpy(), finite.to_numpy())
    with pytest.raises(HepgenError, match="more than sample.max_removed_fraction = 0.01"):
        sample_events(model, 2000, seed=5, batch_size=300, inverse=overflowing)


def _draw_inputs(model) -> tuple[np.ndarray, np.random.Generator]:
    """The network outputs of the draw above (seed 5, batches of 300), concatenated."""
    from hepgen.seeds import derive_seed

    batches = []
    for index, lo in enumerate(range(0, 2000, 300)):
        generator = torch.Generator().manual_seed(derive_seed(5, "batch", index))
        with torch.inference_mode():
            batches.append(model.sample(min(300, 2000 - lo), generator).float().numpy())
    return np.concatenate(batches), np.random.default_rng(0)


@pytest.mark.parametrize(("n", "batch_size"), [(0, 10), (10, 0), (10, 2.5)])
def test_bad_sizes(model, n, batch_size) -> None:
    with pytest.raises(HepgenError, match="positive integer"):
        sample_events(model, n, seed=0, batch_size=batch_size, inverse=_inverse)


def test_workers_do_not_change_the_events(model) -> None:
    one, _ = sample_events(model, 10_000, seed=3, batch_size=1500, inverse=_inverse)
    two, info = sample_events(model, 10_000, seed=3, batch_size=1500, inverse=_inverse, workers=2)
    assert info["workers"] == 2
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert torch.get_num_threads() >= 1


def _muon_inverse(x: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One muon whose E is drawn independently of pT and eta, and a random phi."""
    x = x.astype(np.float64)
    pt = np.exp(3.5 + 0.5 * x[:, 0])
    return pd.DataFrame(
        {
            "mu1_pt": pt,
            "mu1_eta": x[:, 1],
            "mu1_phi": rng.uniform(-np.pi, np.pi, len(x)),
            "mu1_e": pt * (1.0 + 0.2 * x[:, 2]),
        }
    )


def test_batch_repairs_add_up_to_the_repair_of_the_whole_sample(model) -> None:
    layout = [ObjectLayout("mu", 1, min_pt=20.0, min_count=1)]
    table, info = sample_events(
        model,
        5000,
        seed=2,
        batch_size=700,
        inverse=_muon_inverse,
        postprocess=lambda t: repair(t, layout),
        workers=2,
    )
    raw, _ = sample_events(model, 5000, seed=2, batch_size=700, inverse=_muon_inverse)
    whole, validity = repair(raw, layout)
    pd.testing.assert_frame_equal(table, whole, check_exact=True)
    fraction = validity["unphysical"] / 5000
    assert info["validity"] == validity | {
        "removed": 0,
        "outside_selection": 0,
        "outside_selection_kept": 0,
        "unphysical_fraction": fraction,
    }
    assert 0 < validity["invalid"] < 5000
    assert (table["mu1_e"] >= table["mu1_pt"] * np.cosh(table["mu1_eta"]) * (1 - 1e-12)).all()


def test_events_outside_the_selection_are_dropped_counted_and_not_removed(model) -> None:
    """A postprocess that holds events to the selection: fewer events, not an unusable draw."""
    layout = [ObjectLayout("mu", 1, min_pt=20.0, min_count=1)]
    raw, _ = sample_events(model, 3000, seed=4, batch_size=700, inverse=_muon_inverse)
    cut = float(raw["mu1_pt"].quantile(0.3))

    def selected(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        table, validity = repair(table, layout)
        inside = table["mu1_pt"].to_numpy() > cut
        return table[inside].reset_index(drop=True), validity | {
            "outside_selection": int((~inside).sum())
        }

    table, info = sample_events(
        model, 3000, seed=4, batch_size=700, inverse=_muon_inverse, postprocess=selected
    )
    outside = int((raw["mu1_pt"] <= cut).sum())
    assert outside > 30  # the bound of 1 % removed would have failed the draw
    assert info["validity"]["outside_selection"] == outside and info["validity"]["removed"] == 0
    assert info["events"] == len(table) == 3000 - outside
    assert (table["mu1_pt"] > cut).all()


def test_written_samples_are_the_returned_samples(model, tmp_path) -> None:
    layout = [ObjectLayout("mu", 1, min_pt=20.0, min_count=1)]
    options = {"seed": 5, "batch_size": 700, "inverse": _muon_inverse}
    options["postprocess"] = lambda t: repair(t, layout)
    table, info = sample_events(model, 5000, **options)
    path = tmp_path / "samples.parquet"
    written = write_samples(path, model, 5000, workers=2, **options)
    pd.testing.assert_frame_equal(pd.read_parquet(path), table, check_exact=True)
    assert written["validity"] == info["validity"] and written["workers"] == 2
    assert written["rate_hz"] == pytest.approx(5000 / written["seconds"])
    assert [p.name for p in tmp_path.iterdir()] == ["samples.parquet"]
    assert pq.ParquetFile(path).metadata.num_row_groups == 8  # one per batch of <= 700


def test_no_file_when_too_many_events_are_not_finite(model, tmp_path) -> None:
    with torch.no_grad():
        model.decoder.out.bias[1] = float("nan")
    path = tmp_path / "samples.parquet"
    with pytest.raises(HepgenError, match="300 of 300 generated events"):
        write_samples(path, model, 300, seed=0, batch_size=100, inverse=_inverse)
    assert list(tmp_path.iterdir()) == []
