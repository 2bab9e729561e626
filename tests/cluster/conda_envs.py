"""What the conda environments in envs/ must hold: pins, dependency closure, script imports."""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib import metadata
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = [
    "IMPLIED",
    "constraints",
    "env_pins",
    "missing_requirements",
    "rule_envs",
    "script_distributions",
]

IMPLIED = {"pandas": {"pyarrow"}}
"""Run-time needs no import shows: pandas reads and writes Parquet through pyarrow."""

_RULE = re.compile(r"^(?:rule|checkpoint) (\w+):$")
_PATH = re.compile(r'"\.\./\.\./((?:envs|scripts)/[^"]+)"')


def constraints(path: Path) -> dict[str, str]:
    """Canonical name → pinned version of a pip constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def env_pins(path: Path) -> dict[str, str]:
    """Canonical name → version of every ``name==version`` in an env file's ``pip:`` list."""
    spec = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for line in pip:
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {line!r} is not pinned with =="
        pins[canonicalize_name(name)] = version
    return pins


def _requires(name: str) -> set[str]:
    env = {**default_environment(), "extra": ""}
    needed = set()
    for text in metadata.requires(name) or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate(env):
            needed.add(canonicalize_name(req.name))
    return needed


def missing_requirements(pins: set[str]) -> dict[str, set[str]]:
    """Pinned package → its installed requirements (this platform, no extras) left unpinned."""
    missing = {}
    for name in pins:
        unpinned = _requires(name) - pins
        if unpinned:
            missing[name] = unpinned
    return missing


def rule_envs(rules_dir: Path) -> dict[str, dict[str, str]]:
    """Rule → ``{"conda": "envs/...", "script": "scripts/..."}`` read from the rule files."""
    rules: dict[str, dict[str, str]] = {}
    for path in sorted(rules_dir.glob("*.smk")):
        rule = None
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if match := _RULE.match(line):
                rule = match.group(1)
                rules[rule] = {}
            elif rule and line.strip() in {"conda:", "script:"}:
                found = _PATH.search(lines[i + 1])
                if found:
                    rules[rule][line.strip().rstrip(":")] = found.group(1)
    return rules


@cache
def _module_file(src: Path, module: str) -> Path | None:
    base = src.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str | None) -> set[str]:
    """Modules imported at module level (where a missing package fails at import)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and module:
                package = module.split(".")
                package = package if path.name == "__init__.py" else package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def script_distributions(script: Path, src: Path) -> set[str]:
    """Third-party distributions a script imports, directly or through hepgen modules."""
    owners = metadata.packages_distributions()
    seen: set[str] = set()
    found: set[str] = set()
    todo: list[tuple[Path, str | None]] = [(script, None)]
    while todo:
        path, module = todo.pop()
        for name in _imports(path, module):
            parts = name.split(".")
            if parts[0] == "hepgen":
                for i in range(1, len(parts) + 1):
                    sub = ".".join(parts[:i])
                    file = _module_file(src, sub)
                    if file is not None and sub not in seen:
                        seen.add(sub)
                        todo.append((file, sub))
            elif parts[0] in owners:
                found.update(canonicalize_name(d) for d in owners[parts[0]])
    return found
