"""Package attributes that load their module on first use (PEP 562 module ``__getattr__``).

A workflow job is a fresh Python process: a figure job that imports ``hepgen.plotting`` should
not pay for torch, scikit-learn and SciPy because a sibling module needs them. Packages whose
``__init__`` re-exports names from heavy submodules declare where each name lives instead::

    __getattr__, __dir__ = lazy_attributes(__name__, {"plot_latent": "hepgen.plotting.latent"})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for a package with lazily loaded names.

    Arguments:
        package: the package's ``__name__``.
        where: exported name → the module that defines it (full dotted name).

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's module level.
    """
    where = dict(where)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module protocol's name
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        msg = f"module {package!r} has no attribute {name!r}"
        raise AttributeError(msg)

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(where)

    return __getattr__, __dir__
