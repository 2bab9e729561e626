"""Invertible preprocessing: fitted per-feature transform chains and the data split."""

from hepgen.preprocessing.elementary import ELEMENTARY, Elementary, make
from hepgen.preprocessing.split import split_table
from hepgen.preprocessing.transform import NOT_FEATURES, Transform

__all__ = ["ELEMENTARY", "NOT_FEATURES", "Elementary", "Transform", "make", "split_table"]
