"""Packages that load their names on first use give the names, never a same-named submodule,
and a figure job does not pay for torch or scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: (package, name) pairs whose name is also (or was) the name of a submodule.
SHADOWED = [
    ("hepgen.metrics", "evaluate"),
    ("hepgen.metrics", "binned"),
    ("hepgen.plotting", "style"),
]


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize(("package", "name"), SHADOWED)
def test_a_package_name_stays_a_function_whatever_was_imported_first(package, name):
    code = (
        "import importlib, pkgutil, types\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for info in pkgutil.iter_modules(pkg.__path__):\n"
        "    importlib.import_module(f'{pkg.__name__}.{info.name}')\n"
        f"from {package} import {name} as first\n"
        f"print(callable(first), not isinstance(getattr(pkg, {name!r}), types.ModuleType))"
    )
    assert run(code) == "True True"


def test_every_exported_name_resolves():
    code = (
        "import hepgen.metrics as m, hepgen.plotting as p, hepgen.simulate as s\n"
        "print(all(getattr(pkg, n) is not None for pkg in (m, p, s) for n in pkg.__all__))"
    )
    assert run(code) == "True"


def test_a_training_curve_figure_imports_neither_torch_nor_scikit_learn():
    code = (
        "import sys, hepgen.plotting.training, hepgen.plotting.histograms\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    assert run(code) == "False False"
