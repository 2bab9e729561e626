"""Tests for checkpoints: plain-value layout, atomic writes, refusal of arbitrary pickles."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from hepgen.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from hepgen.errors import HepgenError
from hepgen.models import build

SMALL = {"latent": 2, "hidden": 8, "layers": 2}
FEATURES = ["mu1_pt", "mu1_eta", "mu1_phi"]


def _save(path, model=None, **changes) -> None:
    model = model or build("bvae", 3, SMALL)
    kwargs = {
        "type": "bvae",
        "params": SMALL,
        "features": FEATURES,
        "training": {"epochs": 2, "lr": 1e-3},
        "history": [{"epoch": 1, "loss": np.float32(0.5)}],
        "extra": {"provenance": {"seed": 1, "versions": {"torch": torch.__version__}}},
    }
    save_checkpoint(path, model, **{**kwargs, **changes})


class _Payload:
    """Unpickling this object would create the file ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_round_trip_and_layout(tmp_path) -> None:
    model = build("bvae", 3, SMALL, seed=2)
    model.fill_buffer(torch.randn(50, 3, generator=torch.Generator().manual_seed(0)))
    path = tmp_path / "models" / "bvae" / "model.pt"
    _save(path, model)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary left
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and raw["type"] == "bvae"
    assert raw["params"] == {**SMALL, "beta": 1e-6, "alpha": 1.0, "gamma": 0.05}
    assert raw["history"] == [{"epoch": 1, "loss": 0.5}]
    loaded, meta = load_checkpoint(path)
    assert meta["features"] == FEATURES and "state_dict" not in meta
    assert not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_crafted_pickle_is_refused(tmp_path, writer: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    payload = {"format": FORMAT, "state_dict": _Payload(str(marker))}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(HepgenError, match=f"checkpoint {path} .*weights_only"):
        load_checkpoint(path)
    assert not marker.exists()


def test_missing_and_foreign_files(tmp_path) -> None:
    with pytest.raises(HepgenError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(HepgenError, match=r"not a hepgen-checkpoint .*'type'"):
        load_checkpoint(tmp_path / "other.pt")


def test_state_dict_mismatch_is_reported(tmp_path) -> None:
    path = tmp_path / "model.pt"
    _save(path)
    raw = torch.load(path, weights_only=True)
    raw["params"]["hidden"] = 9
    torch.save(raw, path)
    with pytest.raises(HepgenError, match="does not fit type 'bvae'"):
        load_checkpoint(path)


def test_save_refuses_inconsistent_or_unsafe_content(tmp_path) -> None:
    path = tmp_path / "model.pt"
    with pytest.raises(HepgenError, match="type 'vae'"):
        _save(path, type="vae")
    with pytest.raises(HepgenError, match="hidden=64"):
        _save(path, params={**SMALL, "hidden": 64})
    with pytest.raises(HepgenError, match="2 feature names"):
        _save(path, features=FEATURES[:2])
    with pytest.raises(HepgenError, match=r"extra\.when is a datetime"):
        import datetime

        _save(path, extra={"when": datetime.datetime.now()})
    assert not os.listdir(tmp_path)
