"""Run copies of the workflow in temporary directories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def copy_workflow(dest: Path) -> Path:
    """Copy what a user clones (workflow, scripts, config, envs) into ``dest``."""
    for name in ("Snakefile", "constraints.txt"):
        shutil.copy(ROOT / name, dest / name)
    for name in ("workflow", "scripts", "config", "envs"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(TINY), *args]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        pytest.fail(
            f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return result
