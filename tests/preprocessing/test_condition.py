"""Condition columns: which inputs a conditional model gets, and back to physical units."""

from __future__ import annotations

import numpy as np
import pytest

from hepgen.condition_rows import condition_rows, in_region, judged_truth, sample_region
from hepgen.errors import HepgenError
from hepgen.preprocessing import Transform
from hepgen.preprocessing.condition import (
    PREFIX,
    Conditioning,
    per_condition_weights,
    unknown_conditions,
)
from tests.representation_events import RULES, dimuon, dimuon_events


@pytest.fixture(scope="module")
def events():
    return dimuon_events(np.random.default_rng(1), n=3000)


@pytest.fixture(scope="module")
def transform(events):
    columns = list(events.columns)
    return Transform.from_rules(columns, RULES, representation=dimuon()).fit(events)


def test_inputs_put_conditions_last(transform, events):
    """A learned coordinate (ll_m) leaves the generated features; a derived observable (pt_mumu)
    does not, and gets a chain of its own."""
    conditioning = Conditioning.from_rules(transform, ["ll_m", "pt_mumu"], RULES).fit(events)
    assert conditioning.derived == ["pt_mumu"]
    assert "ll_m" not in conditioning.generated
    assert conditioning.inputs == [*conditioning.generated, "ll_m", "pt_mumu"]
    x = conditioning.forward(events)
    assert x.shape == (len(events), len(transform.features) + 1)
    assert abs(float(x[:, -1].mean())) < 0.05  # the own chain standardises pt_mumu


def test_inverse_restores_events_and_keeps_conditions(transform, events):
    conditioning = Conditioning.from_rules(transform, ["ll_m", "pt_mumu"], RULES).fit(events)
    back = conditioning.inverse(conditioning.forward(events), rng=np.random.default_rng(0))
    for column in ("mu1_pt", "mu2_eta", "met"):
        np.testing.assert_allclose(back[column], events[column], rtol=1e-4, atol=1e-4)
    own = conditioning.physical(events)
    np.testing.assert_allclose(back[f"{PREFIX}ll_m"], own["ll_m"], rtol=1e-4)
    np.testing.assert_allclose(back[f"{PREFIX}pt_mumu"], own["pt_mumu"], rtol=1e-4)
    mismatch = conditioning.mismatch(back)
    assert set(mismatch) == {"pt_mumu"} and mismatch["pt_mumu"]["q90_relative"] < 1e-3


def test_decode_inverts_encode(transform, events):
    conditioning = Conditioning.from_rules(transform, ["ll_m", "pt_mumu"], RULES).fit(events)
    rows = conditioning.physical(events.head(50))
    back = conditioning.decode(conditioning.encode(rows))
    np.testing.assert_allclose(back.to_numpy(), rows.to_numpy(), rtol=1e-4)


def test_serialisation_round_trip(transform, events):
    conditioning = Conditioning.from_rules(transform, ["pt_mumu"], RULES).fit(events)
    again = Conditioning.from_dict(conditioning.to_dict(), transform)
    np.testing.assert_array_equal(
        again.forward(events.head(20)), conditioning.forward(events.head(20))
    )


def test_unknown_and_refused_conditions(transform, events):
    columns = [c for c in events.columns if c != "weight"]
    coordinates = dimuon().coordinates(columns)
    assert unknown_conditions(["ll_m", "mu1_pt", "m_mumu", "ht_jets"], columns, coordinates) == [
        "ht_jets"
    ]
    phi = {"reference": "auto", "mode": "keep", "seed": 0}
    rotated = Transform.from_rules(list(events.columns), RULES, phi=phi, representation=dimuon())
    with pytest.raises(HepgenError, match="azimuths learned relative to 'll_phi'"):
        Conditioning.from_rules(rotated.fit(events), ["ll_phi"], RULES)
    with pytest.raises(HepgenError, match="neither a column"):
        Conditioning.from_rules(transform, ["nonsense"], RULES).fit(events)


def test_sources(transform, events, tmp_path):
    conditioning = Conditioning.from_rules(transform, ["ll_m", "pt_mumu"], RULES).fit(events)
    test, train = tmp_path / "test.parquet", tmp_path / "train.parquet"
    events.head(100).to_parquet(test)
    events.to_parquet(train)
    rows = condition_rows(None, conditioning, 250, test=test, train=train, seed=1)
    own = conditioning.physical(events.head(100))
    np.testing.assert_allclose(rows["ll_m"].iloc[[0, 100, 249]], own["ll_m"].iloc[[0, 0, 49]])
    grid = {"source": "grid", "grid": {"ll_m": [80.0, 100.0], "pt_mumu": [5.0, 10.0, 20.0]}}
    rows = condition_rows(grid, conditioning, 12, test=test, train=train, seed=1)
    assert len(rows.drop_duplicates()) == 6
    with pytest.raises(HepgenError, match=r"missing \['pt_mumu'\]"):
        condition_rows(
            {"source": "grid", "grid": {"ll_m": [1.0]}},
            conditioning,
            3,
            test=test,
            train=train,
            seed=1,
        )
    path = tmp_path / "user.parquet"
    events[["mu1_pt"]].to_parquet(path)
    with pytest.raises(HepgenError, match="lacks the condition columns"):
        condition_rows(
            {"source": "file", "path": str(path)}, conditioning, 3, test=test, train=train, seed=1
        )


def test_region_models_the_conditions_inside(transform, events, tmp_path):
    """Rows drawn in a region lie in it, follow the training rows there, and copy none."""
    conditioning = Conditioning.from_rules(transform, ["ll_m", "pt_mumu"], RULES).fit(events)
    train = tmp_path / "train.parquet"
    events.to_parquet(train)
    own = conditioning.physical(events)
    cut = float(own["ll_m"].quantile(0.7))
    region = {"ll_m": {"min": cut}}
    options = {"source": "region", "region": region}
    rows = condition_rows(options, conditioning, 4000, test=train, train=train, seed=2)
    assert in_region(rows, region).all()
    inside = own[in_region(own, region)]
    for name in ("ll_m", "pt_mumu"):
        assert rows[name].median() == pytest.approx(inside[name].median(), rel=0.1)
    assert not np.isin(rows["ll_m"].to_numpy(), own["ll_m"].to_numpy()).any()
    near = (rows["ll_m"] < cut + 0.1 * (inside["ll_m"].median() - cut)).mean()
    truth_near = (inside["ll_m"] < cut + 0.1 * (inside["ll_m"].median() - cut)).mean()
    assert near == pytest.approx(truth_near, abs=0.04)  # no hole at the cut
    with pytest.raises(HepgenError, match="too few to model"):
        condition_rows(
            {"source": "region", "region": {"ll_m": {"min": 1e6}}},
            conditioning,
            5,
            test=train,
            train=train,
            seed=1,
        )


def test_a_targeted_sample_is_compared_with_the_truth_inside_its_region(transform, events):
    """Metrics and figures of a region sample see the same truth rows: those in the region."""
    source = {"source": "region", "region": {"ll_m": {"min": 95.0, "max": 200.0}}}
    region = sample_region(source)
    inside = judged_truth(events, region, transform)
    mass = transform.coordinates(events)["ll_m"].to_numpy()
    assert len(inside) == ((mass >= 95.0) & (mass < 200.0)).sum() > 0
    assert (transform.coordinates(inside)["ll_m"] >= 95.0).all()
    assert list(inside.columns) == list(events.columns)  # no condition columns added
    for other in (None, {"source": "test"}, {"source": "grid", "grid": {"ll_m": [100.0]}}):
        assert sample_region(other) is None and judged_truth(events, None, transform) is events


def test_per_condition_weights_remove_a_stitched_spectrum_and_keep_the_mix_inside_a_cell():
    import pandas as pd

    rng = np.random.default_rng(5)
    # two slices in a mass m: below 150 weight 5.3 pb, above 0.033 pb; x depends on m only
    low, high = rng.uniform(50, 150, 4000), rng.uniform(150, 400, 2000)
    m = np.concatenate([low, high])
    w = np.where(m < 150, 5.3, 0.033) * rng.uniform(0.9, 1.1, m.size)  # generator-weight noise
    balanced = per_condition_weights(w, pd.DataFrame({"m": m}), bins=20)
    assert balanced.mean() == pytest.approx(1.0)
    # each region now counts by its events, not by its cross section (up to the one cell of
    # 300 events that straddles 150 GeV, where the slices keep their relative weights)
    assert balanced[m >= 150].sum() / balanced.sum() == pytest.approx(2000 / 6000, abs=0.05)
    assert w[m >= 150].sum() / w.sum() < 0.01
    # inside a cell the relative weights are untouched
    cell = (m > 200) & (m < 210)
    np.testing.assert_allclose(balanced[cell] / w[cell], (balanced[cell] / w[cell])[0])
    # two conditions: cells of both; a cell of zero weights stays zero
    w[:10] = 0.0
    two = per_condition_weights(w, pd.DataFrame({"m": m, "y": rng.normal(size=m.size)}))
    assert np.isfinite(two).all() and (two[:10] == 0).all()
