"""Provenance records (config hash, seed, package versions, git commit) stored beside results."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["config_hash", "provenance"]

_PACKAGES = (
    "hepgen",
    "numpy",
    "pandas",
    "scikit-learn",
    "torch",
    "uproot",
    "awkward",
    "pythia8mc",
    "fastjet",
    "snakemake",
)


def config_hash(config: Any) -> str:
    """SHA-256 (first 16 hex digits) of a JSON-serialisable config, key order ignored."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _rev_parse(cwd: Path | None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _git_commit() -> str | None:
    """The commit that produced a result, or ``None`` outside any git checkout.

    ``$HEPGEN_GIT_COMMIT`` wins (for installs without ``.git``); else the working directory's
    checkout; else the checkout the hepgen package is imported from (an editable install).
    """
    commit = os.environ.get("HEPGEN_GIT_COMMIT", "").strip()
    if commit:
        return commit
    return _rev_parse(None) or _rev_parse(Path(__file__).resolve().parent)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def provenance(config: Any, seed: int) -> dict[str, Any]:
    """A plain-value record of what produced a result.

    Arguments:
        config: the part of the config that determines the result (JSON-serialisable).
        seed: the seed the result was made with.

    Returns:
        ``{"config_hash", "seed", "versions", "git_commit"}``.
    """
    return {
        "config_hash": config_hash(config),
        "seed": int(seed),
        "versions": _versions(),
        "git_commit": _git_commit(),
    }
