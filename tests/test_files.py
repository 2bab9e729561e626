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


#: Runs one write under a file-size limit (``ulimit -f``), SIGXFSZ ignored so that the write
#: fails with EFBIG as on a full disk; prints the error the user sees.
LIMITED = """
import resource, signal, sys
import numpy as np
import pandas as pd
import pyarrow as pa
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.io import write_stream, write_table

kind, final, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
table = pd.DataFrame({"jet1_pt": np.random.default_rng(0).exponential(30.0, 20_000)})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if kind == "stream":
        write_stream(final, (pa.Table.from_pandas(table[i::4]) for i in range(4)))
    elif kind == "table":
        write_table(table, final)
    else:
        with atomic_path(final) as tmp, open(tmp, "wb") as f:
            for _ in range(100):
                f.write(b"x" * 4096)
except HepgenError as err:
    print(f"HepgenError: {err}")
    sys.exit(1)
print("written")
"""


def _limited(kind, final, limit):
    return subprocess.run(
        [sys.executable, "-c", LIMITED, kind, str(final), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["stream", "table", "plain"])
def test_write_past_the_file_size_limit_leaves_nothing_and_says_why(tmp_path, kind):
    final = tmp_path / "out" / "events.parquet"
    done = _limited(kind, final, 64 * 1024)  # each output is over 150 kB
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == (
        f"HepgenError: cannot write {str(final)!r}: file too large (EFBIG); the output was not written"
    )
    assert list(final.parent.iterdir()) == [], "no final file and no temporary file is left"
    roomy = _limited(kind, final, 16 * 1024 * 1024)  # the same write fits a larger limit
    assert roomy.stdout.strip() == "written", roomy.stderr
    assert [p.name for p in final.parent.iterdir()] == ["events.parquet"]


def test_failed_write_keeps_the_previous_output(tmp_path):
    final = tmp_path / "events.parquet"
    final.write_bytes(b"previous run\n")
    done = _limited("plain", final, 64 * 1024)
    assert "file too large (EFBIG)" in done.stdout
    assert final.read_bytes() == b"previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_other_os_errors_pass_unchanged(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "out.txt") as tmp:
        open(tmp.parent / "missing" / "input.txt").close()
    assert list(tmp_path.iterdir()) == []
