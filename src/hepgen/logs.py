"""Logging of the workflow's scripts into their Snakemake log files."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

__all__ = ["script_logging"]


def script_logging(log_path: str | os.PathLike | None, level: int = logging.INFO) -> logging.Logger:
    """Send ``logging`` records and stderr of a workflow script to its Snakemake log file.

    Arguments:
        log_path: the rule's ``log[0]``; ``None`` keeps stderr.
        level: the root logger level.

    Returns:
        The ``hepgen`` logger.
    """
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the script
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return logging.getLogger("hepgen")
