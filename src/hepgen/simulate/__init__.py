"""Built-in event source: Pythia8 hard processes, FastJet jets and a parametrised detector.

The names load on first use, so that the detector's parametrisation
(:mod:`hepgen.simulate.detector`, NumPy only) is importable where Pythia8 and FastJet are not
installed, e.g. by the figure of a learned detector response.
"""

from __future__ import annotations

from hepgen.lazy import lazy_attributes

_WHERE = {
    "PROCESSES": "hepgen.simulate.processes",
    "DetectorConfig": "hepgen.simulate.detector",
    "resolve_options": "hepgen.simulate.generate",
    "simulate": "hepgen.simulate.generate",
    "write_ntuple": "hepgen.simulate.ntuple",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
