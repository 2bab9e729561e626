"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
