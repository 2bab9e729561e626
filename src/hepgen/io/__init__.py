"""Reading ROOT ntuples into event tables.

The reading functions load uproot, awkward and pandas on first use, so that the workflow can
import the light dataset specification (``expand_files``) while it parses its config.
"""

from __future__ import annotations

import importlib
from typing import Any

from hepgen.io.pairs import PAIR_COLUMNS, RESPONSE_COLUMNS, PairSpec, reassemble
from hepgen.io.spec import KINEMATICS, DatasetSpec, MetSpec, ObjectSpec, expand_files

_INGEST = (
    "PARQUET_OPTIONS",
    "STEP_SIZE",
    "ingest",
    "ingest_to_parquet",
    "iter_columns",
    "required_branches",
    "write_stream",
    "write_table",
)

__all__ = [
    "KINEMATICS",
    "PAIR_COLUMNS",
    "RESPONSE_COLUMNS",
    "DatasetSpec",
    "MetSpec",
    "ObjectSpec",
    "PairSpec",
    "expand_files",
    "reassemble",
    *_INGEST,
]


def __getattr__(name: str) -> Any:
    if name in _INGEST:
        return getattr(importlib.import_module("hepgen.io.tables"), name)
    msg = f"module 'hepgen.io' has no attribute {name!r}"
    raise AttributeError(msg)
