"""Atomic writes, seeds and device choice."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from hepgen.runtime import HepgenError, atomic_path, derive_seed, pick_device

WRITER = """
import sys, time
from hepgen.runtime import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "w") as f:
        f.write("partial\\n")
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_writer_leaves_no_final_file(tmp_path, sig):
    final = tmp_path / "events.parquet"
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(final)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout.readline().strip() == "writing"
        assert any(tmp_path.iterdir()), "the writer works on a temporary file beside the output"
        proc.send_signal(sig)
        proc.wait(timeout=30)
    assert proc.returncode != 0
    assert not final.exists()


def test_failed_block_removes_temporary_and_keeps_old_output(tmp_path):
    final = tmp_path / "metrics.json"
    final.write_text("old\n")
    with pytest.raises(ValueError), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise ValueError("writer failed")
    assert final.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_success_renames_with_usual_permissions(tmp_path):
    final = tmp_path / "out" / "table.txt"
    with atomic_path(final) as tmp:
        tmp.write_text("ok\n")
    assert final.read_text() == "ok\n"
    assert final.stat().st_mode & 0o044, "outputs are readable by group and others as umask allows"


def test_derived_seeds_are_stable_and_distinct():
    seeds = {derive_seed(1, "train", "dy", m) for m in ("vae", "bvae", "gan", "flow")}
    assert len(seeds) == 4
    assert derive_seed(1, "train", "dy", "vae") == derive_seed(1, "train", "dy", "vae")
    assert derive_seed(1, "x") != derive_seed(2, "x")
    assert all(0 <= s < 2**31 for s in seeds)


def test_device_choice_falls_back_to_cpu():
    import torch

    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(HepgenError, match="'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(HepgenError, match="cuda"):
            pick_device("cuda")
