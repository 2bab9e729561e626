"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def shared_zmumu() -> Path:
    path = SHARED_DATA / "cms-opendata-2010-Zmumu.root"
    if not path.is_file():
        pytest.skip("shared CMS open-data ntuple not present")
    return path


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny networks: one torch thread avoids thread start-up and contention costs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
