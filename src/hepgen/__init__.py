"""hepgen: deep generative event generators for collider physics."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_generator"]


def __getattr__(name: str) -> Any:
    """``load_generator`` is imported on first use, so that ``import hepgen`` stays light."""
    if name == "load_generator":
        return importlib.import_module("hepgen.generator").load_generator
    msg = f"module 'hepgen' has no attribute {name!r}"
    raise AttributeError(msg)
