"""Invertible preprocessing: the data split, tail cuts, the event representation, relative angles,
per-feature chains, repair."""

from hepgen.preprocessing.angles import PhiRelative, wrap_phi
from hepgen.preprocessing.cuts import apply_cuts, cut_patterns, fit_cuts
from hepgen.preprocessing.elementary import ELEMENTARY, Elementary, make
from hepgen.preprocessing.repair import ObjectLayout, find_objects, repair
from hepgen.preprocessing.representation import Representation
from hepgen.preprocessing.split import split_table
from hepgen.preprocessing.transform import NOT_FEATURES, Transform

__all__ = [
    "ELEMENTARY",
    "NOT_FEATURES",
    "Elementary",
    "ObjectLayout",
    "PhiRelative",
    "Representation",
    "Transform",
    "apply_cuts",
    "cut_patterns",
    "find_objects",
    "fit_cuts",
    "make",
    "repair",
    "split_table",
    "wrap_phi",
]
