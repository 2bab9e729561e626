"""The package's imports run one way, in layers, and form no cycle.

Layers, bottom to top (a module imports only from its own part or a lower layer):

    foundation   errors, files, logs, seeds, devices, conventions, config, provenance, resources, sweeps, lazy
    data         io, simulate, preprocessing, stats, weighting, condition_rows
    generators   models, checkpoint
    use          training, sampling, export, generator, condition_draw

Evaluation sits beside them on the data layer and never sees a model: ``metrics`` imports only
foundation and data, ``plotting`` and ``reweighting`` (classifier weights of generated events)
those and ``metrics``. The workflow's scripts and the ``hepgen`` command (``cli``) are on top.
Every import counts: module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hepgen"

FOUNDATION = {
    "__init__",
    "errors",
    "files",
    "logs",
    "seeds",
    "devices",
    "conventions",
    "config",
    "provenance",
    "resources",
    "sweeps",
    "lazy",
}
DATA = {"io", "simulate", "preprocessing", "stats", "weighting", "condition_rows"}
GENERATORS = {"models", "checkpoint", "_kernels"}
USE = {"training", "sampling", "export", "generator", "condition_draw"}
ALLOWED = {
    **dict.fromkeys(FOUNDATION, FOUNDATION),
    **dict.fromkeys(DATA, FOUNDATION | DATA),
    **dict.fromkeys(GENERATORS, FOUNDATION | DATA | GENERATORS),
    **dict.fromkeys(USE, FOUNDATION | DATA | GENERATORS | USE),
    "metrics": FOUNDATION | DATA | {"metrics"},
    "reweighting": FOUNDATION | DATA | {"metrics", "reweighting"},
    "plotting": FOUNDATION | DATA | {"metrics", "plotting"},
    "cli": FOUNDATION | DATA | GENERATORS | USE | {"cli"},
}
"""Part of the package (``hepgen.<part>``) → the parts its modules may import."""

#: Third-party packages that loading a model and sampling from it must not need.
NOT_FOR_MODELS = (
    "uproot",
    "awkward",
    "snakemake",
    "pythia8",
    "pythia8mc",
    "fastjet",
    "pandas",
    "pyarrow",
    "sklearn",
    "scipy",
    "matplotlib",
    "yaml",
    "jsonschema",
)


def module_name(path: Path, root: Path) -> str:
    """``hepgen.a.b`` for ``root/a/b.py`` and ``hepgen.a`` for ``root/a/__init__.py``."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("hepgen", *parts))


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the ``hepgen`` modules it imports (every import statement in the file)."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
        graph[name] = {t for t in targets if t == "hepgen" or t.startswith("hepgen.")}
    return graph


def part(module: str) -> str:
    """The layer part of a module: ``hepgen.models.vae`` → ``models``; ``hepgen`` → ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), as module lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` for every import against the layers (and unknown parts)."""
    bad = []
    for module, targets in sorted(graph.items()):
        src = part(module)
        if src not in ALLOWED:
            bad.append(f"{module}: part {src!r} has no layer")
            continue
        bad += [f"{module} -> {t}" for t in sorted(targets) if part(t) not in ALLOWED[src]]
    return bad


def test_no_import_cycle() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_imports_follow_the_layers() -> None:
    assert violations(import_graph(PACKAGE)) == []


def test_the_checks_fail_on_a_cycle_and_on_an_upward_import(tmp_path: Path) -> None:
    """A copy of the package with models importing training: both checks report it."""
    copy = tmp_path / "hepgen"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    base = copy / "models" / "base.py"
    base.write_text(base.read_text() + "\n\ndef _late():\n    from hepgen.training import loop\n")
    graph = import_graph(copy)
    assert any("hepgen.models.base" in group for group in cycles(graph))
    assert "hepgen.models.base -> hepgen.training.loop" in violations(graph)


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {part(m) for m in import_graph(PACKAGE)}
    assert parts <= set(ALLOWED), sorted(parts - set(ALLOWED))


def test_a_model_loads_and_samples_with_only_torch_and_numpy(tmp_path: Path) -> None:
    """Checkpoints of three model kinds load and sample in a process where the workflow's
    other dependencies (uproot, snakemake, pythia8mc, pandas, scikit-learn, ...) cannot import."""
    from hepgen.checkpoint import save_checkpoint
    from hepgen.models import build
    from hepgen.training import TrainConfig, train_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 3)).astype(np.float32)
    config = TrainConfig(epochs=1, batch_size=128, device="cpu", checkpoint_every=0)
    for model_type in ("flow", "bvae", "bgmm"):
        model = build(model_type, 3, {}, seed=0)
        history = train_model(model, x[:384], x[384:], config)
        save_checkpoint(
            tmp_path / f"{model_type}.pt",
            model,
            type=model_type,
            params={},
            features=["a", "b", "c"],
            training={},
            history=history,
        )
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys
        BLOCKED = {NOT_FOR_MODELS!r}
        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError("not available: " + name)
        sys.meta_path.insert(0, Refuse())
        import torch
        from hepgen.checkpoint import load_checkpoint
        for model_type in ("flow", "bvae", "bgmm"):
            model, _ = load_checkpoint({str(tmp_path)!r} + "/" + model_type + ".pt")
            events = model.sample(100, torch.Generator().manual_seed(0))
            assert events.shape == (100, 3) and bool(torch.isfinite(events).all()), model_type
        loaded = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
        assert loaded == [], loaded
        print("sampled")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sampled"


@pytest.mark.parametrize("name", ["hepgen.models", "hepgen.checkpoint"])
def test_model_modules_import_no_workflow_dependency(name: str) -> None:
    """Importing the model code pulls none of the workflow's heavy dependencies."""
    code = f"import sys, {name}; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(ast.literal_eval(result.stdout.strip()))
    assert loaded.isdisjoint(NOT_FOR_MODELS), sorted(loaded & set(NOT_FOR_MODELS))
