"""Atomic writes: a killed or failed writer leaves no file under the final name."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from hepgen.files import atomic_path

WRITER = """
import sys, time
from hepgen.files import atomic_path
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
