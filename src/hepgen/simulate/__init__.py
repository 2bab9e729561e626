"""Built-in event source: Pythia8 hard processes, FastJet jets and a parametrised detector."""

from __future__ import annotations

from hepgen.simulate.detector import DetectorConfig
from hepgen.simulate.generate import resolve_options, simulate
from hepgen.simulate.ntuple import write_ntuple
from hepgen.simulate.processes import PROCESSES

__all__ = ["PROCESSES", "DetectorConfig", "resolve_options", "simulate", "write_ntuple"]
