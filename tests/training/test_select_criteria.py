"""Tests of the sampled best-epoch criteria: chi2 (Lebese), KS and Spearman (Stevenson)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from small_models import SMALL, correlated_events, loop_config

from hepgen.errors import HepgenError
from hepgen.metrics.binned import chi2_ndf_1d
from hepgen.metrics.correlation import spearman_matrix
from hepgen.metrics.ks import ks_1d
from hepgen.models import build
from hepgen.seeds import derive_seed
from hepgen.training import TrainConfig, train_model
from hepgen.training.selection import (
    DISTANCES,
    mean_chi2,
    mean_ks,
    sampled_distances,
    spearman_gap,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
SAMPLED = ["metric", "chi2", "ks", "spearman"]


def _correlated(n: int, seed: int) -> np.ndarray:
    """(n, 3) events with correlations 0.8 between features 0 and 1, -0.5 between 1 and 2."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.8, -0.4], [0.8, 1.0, -0.5], [-0.4, -0.5, 1.0]])
    return rng.multivariate_normal([0.0, 1.0, -1.0], cov, size=n)


def _decorrelated(x: np.ndarray, seed: int) -> np.ndarray:
    """The same marginals with every feature permuted on its own: no correlations left."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.permutation(column) for column in x.T])


@pytest.mark.parametrize("name", SAMPLED)
def test_identical_samples_score_zero(name: str) -> None:
    x = _correlated(3000, 0)
    assert DISTANCES[name](x, x.copy(), None, None) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["metric", "chi2", "ks"])
def test_marginal_criteria_grow_with_a_shift(name: str) -> None:
    truth, other = _correlated(4000, 1), _correlated(4000, 2)
    scores = [DISTANCES[name](truth, other + shift, None, None) for shift in (0.0, 0.1, 0.3, 1.0)]
    assert scores == sorted(scores) and scores[-1] > 5 * scores[0]
    # decorrelating leaves the marginals, and these criteria, alone
    same = DISTANCES[name](truth, _decorrelated(truth, 3), None, None)
    assert same == pytest.approx(0.0, abs=1e-12)


def test_spearman_grows_when_the_sample_is_decorrelated() -> None:
    truth, other = _correlated(4000, 1), _correlated(4000, 2)
    same_law = spearman_gap(truth, other)
    decorrelated = spearman_gap(truth, _decorrelated(other, 3))
    assert same_law < 0.05 < 0.4 < decorrelated
    # (0.8 + 0.5 + 0.4) * 2 entries / 6 off-diagonal entries, from the population correlations
    assert decorrelated == pytest.approx(1.7 / 3.0 * 0.98, abs=0.05)
    # a shift leaves ranks, hence the criterion, alone
    assert spearman_gap(truth, truth + 2.0) == pytest.approx(0.0, abs=1e-12)


def test_chi2_of_two_samples_of_one_law_is_about_one() -> None:
    """chi2/ndf of statistically independent samples of one distribution is about 1."""
    truth, other = _correlated(20_000, 4), _correlated(20_000, 5)
    assert mean_chi2(truth, other) == pytest.approx(1.0, abs=0.35)


def test_criteria_match_the_reported_metrics() -> None:
    """The selection's chi2, KS and Spearman are those of hepgen.metrics, weighted or not."""
    rng = np.random.default_rng(6)
    truth, other = _correlated(1500, 7), _correlated(1200, 8) * 1.1 + 0.1
    truth[:, 2] = rng.integers(0, 5, len(truth))  # a multiplicity: one bin per integer
    other[:, 2] = rng.integers(0, 6, len(other))
    for wt, wg in [(None, None), (rng.uniform(0.2, 2.0, 1500), rng.uniform(0.2, 2.0, 1200))]:
        chi2 = np.mean([chi2_ndf_1d(truth[:, j], other[:, j], wt, wg) for j in range(3)])
        assert mean_chi2(truth, other, wt, wg) == pytest.approx(chi2, rel=1e-9)
        ks = np.mean([ks_1d(truth[:, j], other[:, j], wt, wg) for j in range(3)])
        assert mean_ks(truth, other, wt, wg) == pytest.approx(ks, rel=1e-12)
        gap = np.abs(spearman_matrix(other, wg) - spearman_matrix(truth, wt))
        assert spearman_gap(truth, other, wt, wg) == pytest.approx(gap.sum() / 6, rel=1e-9)


def test_signed_weights_cancel_in_ks_and_chi2() -> None:
    """{0, 1, 1} weighted {1, 1, -1} is the point 0: no distance to events at 0."""
    truth = np.array([[0.0], [1.0], [1.0]])
    weights = np.array([1.0, 1.0, -1.0])
    assert mean_ks(truth, np.zeros((4, 1)), weights) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4000, 2))
    signed = np.where(np.arange(4000) % 10 == 0, -1.0, 1.25)
    assert np.isfinite(mean_chi2(x, rng.normal(size=(4000, 2)), signed))


def test_spearman_refuses_negative_validation_weights() -> None:
    train, val = correlated_events()
    weights = np.ones(len(val))
    weights[3] = -0.5
    model = build("gan", 5, SMALL)  # a type that trains on negative weights
    with pytest.raises(HepgenError, match="select_by 'spearman' needs non-negative validation"):
        train_model(model, train, val, loop_config(select_by="spearman"), val_weights=weights)


@pytest.mark.parametrize("select_by", ["chi2", "ks", "spearman", "metric"])
def test_training_selects_the_best_sampled_epoch(select_by: str) -> None:
    train, val = correlated_events()
    model = build("vae", 5, SMALL)
    config = loop_config(epochs=6, select_by=select_by, select_every=2)
    weights = np.random.default_rng(1).uniform(0.5, 1.5, len(val))
    history = train_model(model, train, val, config, val_weights=weights)
    scored = {row["epoch"]: row[select_by] for row in history if not np.isnan(row[select_by])}
    assert sorted(scored) == [2, 4, 6]
    assert all(np.isfinite(row["metric"]) for row in history if row["epoch"] in scored)
    best = min(scored, key=scored.get)
    # the restored model is the best epoch's: the same draw gives the same score
    x, v = torch.as_tensor(train), torch.as_tensor(val)
    vw = torch.as_tensor(weights / weights.mean(), dtype=torch.float32)
    seed = derive_seed(config.seed, "selection")
    again = sampled_distances(model, x, v, [select_by], seed=seed, val_weights=vw)[select_by]
    assert again == pytest.approx(scored[best], rel=1e-6)


def test_select_by_choices_match_the_schema() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    enum = schema["$defs"]["training_override"]["properties"]["select_by"]["enum"]
    assert set(enum) == {*DISTANCES, "val_loss"}
    for choice in enum:
        TrainConfig(select_by=choice)
    with pytest.raises(HepgenError, match="key 'select_by' must be a string one of"):
        TrainConfig(select_by="auc")
    with pytest.raises(HepgenError, match="when select_by is 'chi2'"):
        TrainConfig(select_by="chi2", patience=2, select_every=5)
