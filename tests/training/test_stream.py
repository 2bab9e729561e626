"""Tests of streamed training: every event once per epoch, a seeded order, resumed mid-epoch."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from small_models import SMALL, correlated_events, loop_config

from hepgen.errors import HepgenError
from hepgen.models import build
from hepgen.training import TrainingInterrupted, train_model
from hepgen.training.stream import EventStream, columns_prepare

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FEATURES = [f"x{i}" for i in range(5)]


def write_events(path, x: np.ndarray, row_group: int, weights: np.ndarray | None = None) -> None:
    """Events (n, 5) and their index ``id`` in row groups of ``row_group`` rows."""
    table = pd.DataFrame(x, columns=FEATURES)
    table["id"] = np.arange(len(x), dtype=np.float64)
    if weights is not None:
        table["weight"] = weights
    pq.write_table(
        pa.Table.from_pandas(table, preserve_index=False), path, row_group_size=row_group
    )


def ids_of(stream: EventStream, seed: int, *, skip: int = 0) -> np.ndarray:
    return np.concatenate([x[:, 0] for x, _ in stream.chunks(seed, skip=skip)]).astype(int)


def id_stream(tmp_path, n: int, row_group: int, buffer: int) -> EventStream:
    path = tmp_path / f"ids-{n}-{row_group}.parquet"
    if not path.exists():
        write_events(path, np.zeros((n, 5), np.float32), row_group)
    return EventStream(path, columns_prepare(["id"]), buffer=buffer)


@pytest.mark.parametrize("row_group", [1, 16, 33, 100, 1000])
@pytest.mark.parametrize("buffer", [1, 7, 64, 99, 5000])
def test_an_epoch_visits_every_event_once(tmp_path, row_group: int, buffer: int) -> None:
    stream = id_stream(tmp_path, 250, row_group, buffer)  # 250 leaves a partial last group
    assert stream.groups[-1] == 250 - (len(stream.groups) - 1) * row_group
    for seed in (0, 1):
        ids = ids_of(stream, seed)
        assert np.array_equal(np.sort(ids), np.arange(250))
    batches = [len(x) for x, _ in stream.batches(3, 64)]
    assert batches == [64, 64, 64, 58]
    joined = np.concatenate([x[:, 0] for x, _ in stream.batches(3, 64)]).astype(int)
    assert np.array_equal(joined, ids_of(stream, 3))


@pytest.mark.parametrize(("row_group", "buffer"), [(16, 7), (33, 64), (1000, 99)])
def test_the_order_is_seeded(tmp_path, row_group: int, buffer: int) -> None:
    stream = id_stream(tmp_path, 250, row_group, buffer)
    first, again, other = ids_of(stream, 5), ids_of(stream, 5), ids_of(stream, 6)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, np.arange(250))  # shuffled, not file order
    fresh = EventStream(stream.path, columns_prepare(["id"]), buffer=buffer)
    assert np.array_equal(ids_of(fresh, 5), first)  # a new process sees the same order


@pytest.mark.parametrize("skip", [0, 1, 15, 16, 17, 130, 249])
def test_skipping_continues_the_same_order(tmp_path, skip: int) -> None:
    stream = id_stream(tmp_path, 250, 16, 40)
    assert np.array_equal(ids_of(stream, 9, skip=skip), ids_of(stream, 9)[skip:])


def test_a_large_buffer_mixes_the_whole_file(tmp_path) -> None:
    """With the buffer at least the file, the first events come from anywhere in it."""
    stream = id_stream(tmp_path, 250, 10, 250)
    heads = np.array([ids_of(stream, seed)[:25] for seed in range(40)])
    assert heads.mean() == pytest.approx(124.5, abs=12)  # uniform positions: mean 124.5 ± 3.6


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray]:
    return correlated_events()


@pytest.fixture
def stream_of(tmp_path, events):
    def make(buffer: int = 100, row_group: int = 50, weights: np.ndarray | None = None):
        path = tmp_path / f"train-{row_group}.parquet"
        write_events(path, events[0], row_group, weights)
        return EventStream(path, columns_prepare(FEATURES), buffer=buffer)

    return make


def _stop_at(epoch: int, step: int):
    def callback(e: int, s: int) -> None:
        if (e, s) == (epoch, step):
            os.kill(os.getpid(), signal.SIGTERM)

    return callback


def test_a_streamed_run_resumes_mid_epoch_bit_identically(events, stream_of, tmp_path) -> None:
    _, val = events
    config = loop_config(epochs=3, select_by="metric", select_every=1, stream_buffer=100)
    whole = build("vae", 5, SMALL, seed=4)
    expected = train_model(whole, stream_of(), val, config)
    path = tmp_path / "last.ckpt"
    with pytest.raises(TrainingInterrupted, match="SIGTERM in epoch 2"):
        train_model(
            build("vae", 5, SMALL, seed=4),
            stream_of(),
            val,
            config,
            state_path=path,
            callback=_stop_at(2, 3),
        )
    cursor = torch.load(path, weights_only=True)["progress"]["cursor"]
    assert cursor["epoch"] == 2 and cursor["next"] == 4 * 64 and "perm" not in cursor
    resumed = build("vae", 5, SMALL, seed=4)
    history = train_model(resumed, stream_of(), val, config, state_path=path)
    assert [r["loss"] for r in history] == [r["loss"] for r in expected]
    assert [r["metric"] for r in history] == [r["metric"] for r in expected]
    for key, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_streamed_training_learns_like_in_memory(events, stream_of) -> None:
    train, val = events
    config = loop_config(epochs=8, lr=3e-3)
    streamed = train_model(build("vae", 5, SMALL, seed=1), stream_of(buffer=64), val, config)
    memory = train_model(build("vae", 5, SMALL, seed=1), train, val, config)
    assert streamed[-1]["val_loss"] < 0.5 * streamed[0]["val_loss"]
    assert streamed[-1]["val_loss"] == pytest.approx(memory[-1]["val_loss"], rel=0.25)


def test_a_changed_file_starts_fresh(events, stream_of, tmp_path, caplog) -> None:
    _, val = events
    config = loop_config(epochs=1, checkpoint_every=1, stream_buffer=100)
    path = tmp_path / "last.ckpt"
    train_model(build("vae", 5, SMALL), stream_of(), val, config, state_path=path)
    with caplog.at_level("WARNING", logger="hepgen.training.state"):
        train_model(build("vae", 5, SMALL), stream_of(), val, config, state_path=path)
    assert not caplog.text  # the same file written again: the same run (nothing left to do)
    for changed in (stream_of(row_group=40), stream_of(weights=np.linspace(0.5, 1.5, 512))):
        caplog.clear()
        train_model(build("vae", 5, SMALL), changed, val, config, state_path=path)
        assert "belongs to another run" in caplog.text  # other row groups: another order


def test_weights_are_normalised_over_the_whole_file(events, stream_of) -> None:
    weights = np.linspace(1.0, 3.0, 512)  # mean 2
    stream = stream_of(weights=weights)
    scan = stream.scan(100, seed=0, features=5, owner="test", negative=False)
    assert stream.weight_mean == pytest.approx(2.0)
    streamed = np.concatenate([w for _, w in stream.chunks(0)])
    assert streamed.mean() == pytest.approx(1.0, rel=1e-6)
    assert len(scan.sample) == 100 and scan.weights.shape == (100,)
    with pytest.raises(HepgenError, match="cannot use negative event weights: 1 of 512"):
        stream_of(weights=np.r_[-1.0, np.ones(511)]).scan(
            10, seed=0, features=5, owner="model type 'vae'", negative=False
        )


@pytest.mark.parametrize("model_type", ["bvae", "bgmm"])
def test_models_that_need_the_events_at_once_use_the_reservoir(
    model_type, events, stream_of
) -> None:
    _, val = events
    params = {**SMALL, "alpha": 1.0, "gamma": 0.05} if model_type == "bvae" else {}
    if model_type == "bgmm":
        params = {"components": 2}
    config = loop_config(epochs=2, stream_buffer=50, stream_reservoir=200)
    model = build(model_type, 5, params, seed=0)
    history = train_model(model, stream_of(), val, config)
    assert np.isfinite(history[-1]["val_loss"])
    if model_type == "bvae":
        assert len(model.buffer_mu) == 200  # the density information buffer is the reservoir
    sample = model.sample(50, torch.Generator().manual_seed(0))
    assert sample.shape == (50, 5) and bool(torch.isfinite(sample).all())


def test_non_finite_events_name_their_row_group(tmp_path) -> None:
    x = np.zeros((30, 5), np.float32)
    x[17, 2] = np.nan
    write_events(tmp_path / "bad.parquet", x, 10)
    stream = EventStream(tmp_path / "bad.parquet", columns_prepare(FEATURES), buffer=8)
    with pytest.raises(HepgenError, match="row group 1 .* NaN/inf values in feature column"):
        stream.scan(5, seed=0, features=5, owner="model type 'vae'", negative=False)


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "training",
            {"stream_buffer": -1},
            "training.stream_buffer: -1 is less than the minimum of 0",
        ),
        (
            "training",
            {"stream_reservoir": 0},
            "training.stream_reservoir: 0 is less than the minimum",
        ),
        (
            "preprocess",
            {"stream": {"reservoir": 10}},
            "preprocess.stream.reservoir: 10 is less than",
        ),
        ("preprocess", {"stream": {"buffer": 10}}, "preprocess.stream: Additional properties"),
    ],
)
def test_the_dry_run_names_a_bad_stream_key(section, values, message) -> None:
    """The schema the dry run validates against refuses bad streaming keys by name."""
    import yaml

    from hepgen.config import validate_config

    root = Path(__file__).resolve().parents[2]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    config[section] |= values
    with pytest.raises(HepgenError, match=f"config key {message}"):
        validate_config(config, root / "workflow" / "schemas" / "config.schema.yaml")
