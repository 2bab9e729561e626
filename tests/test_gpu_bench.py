"""The GPU benchmark's run step needs only torch and numpy (a bare GPU machine has no more)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: What a bare machine with a CUDA PyTorch lacks: everything but Python, torch and numpy.
ABSENT = (
    "uproot", "awkward", "snakemake", "pythia8", "pythia8mc", "fastjet", "pandas", "pyarrow",
    "sklearn", "scipy", "matplotlib", "yaml", "jsonschema", "tqdm", "threadpoolctl", "psutil",
)  # fmt: skip


def test_the_run_step_trains_and_samples_with_only_torch_and_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(700, 4)).astype(np.float32)
    np.savez(
        tmp_path / "gpu.npz",
        train=x[:500],
        val=x[500:600],
        test=x[600:],
        features=np.array(list("abcd")),
    )
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import runpy, sys
        for name in {ABSENT!r}:  # absent as on a bare machine: import fails, find_spec gives None
            sys.modules[name] = None
        sys.argv = ["gpu.py", "run", {str(tmp_path / "gpu.npz")!r}, {str(out)!r}, "--device", "cpu",
                    "--epochs", "2", "--batch-size", "100", "--sample", "3000",
                    "--sample-batch", "1000", "--types", "flow", "cfm"]
        runpy.run_path({str(ROOT / "bench" / "gpu.py")!r}, run_name="__main__")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ModuleNotFoundError" not in result.stderr
    info = json.loads((out / "gpu.json").read_text())
    assert info["device"] == "cpu" and info["training_events"] == 500
    assert [(r["type"], r["amp"]) for r in info["rows"]] == [
        ("flow", False), ("flow", True), ("cfm", False), ("cfm", True),
    ]  # fmt: skip
    for row in info["rows"]:
        assert row["sampled"] == 3000 and row["train_events_per_s"] > 0
        assert len(row["losses"]) == 2 and all(np.isfinite(row["losses"]))
        assert row["autocast"] is None  # no autocast on the CPU
        events = np.load(out / f"{row['type']}-amp{int(row['amp'])}.npy")
        assert events.shape == (3000, 4) and row["finite_fraction"] == 1.0
