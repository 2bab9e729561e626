"""The choice of the compute device."""

from __future__ import annotations

import pytest

from hepgen.devices import pick_device
from hepgen.errors import HepgenError


def test_device_choice_falls_back_to_cpu():
    import torch

    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(HepgenError, match="'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(HepgenError, match="cuda"):
            pick_device("cuda")
