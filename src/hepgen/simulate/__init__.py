"""Built-in event source: Pythia8 hard processes, FastJet jets and a parametrised detector.

The names load on first use, so that the detector's parametrisation
(:mod:`hepgen.simulate.detector`, NumPy only) is importable where Pythia8 and FastJet are not
installed, e.g. by the figure of a learned detector response.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PROCESSES", "DetectorConfig", "resolve_options", "simulate", "write_ntuple"]

_WHERE = {
    "PROCESSES": "processes",
    "DetectorConfig": "detector",
    "resolve_options": "generate",
    "simulate": "generate",
    "write_ntuple": "ntuple",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"hepgen.simulate.{_WHERE[name]}"), name)
    msg = f"module 'hepgen.simulate' has no attribute {name!r}"
    raise AttributeError(msg)
