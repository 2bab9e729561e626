"""Model tests run tiny networks on one torch thread (the ``one_torch_thread`` fixture)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _tiny_networks(one_torch_thread: None) -> None:
    """Every model test runs on one torch thread."""
