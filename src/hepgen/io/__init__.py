"""Reading ROOT ntuples into event tables."""

from hepgen.io.ingest import ingest, ingest_to_parquet, iter_tables, required_branches, write_table
from hepgen.io.spec import KINEMATICS, DatasetSpec, MetSpec, ObjectSpec, expand_files

__all__ = [
    "KINEMATICS",
    "DatasetSpec",
    "MetSpec",
    "ObjectSpec",
    "expand_files",
    "ingest",
    "ingest_to_parquet",
    "iter_tables",
    "required_branches",
    "write_table",
]
