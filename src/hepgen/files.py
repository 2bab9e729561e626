"""Atomic file writes: an output is either complete under its final name or absent."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hepgen.errors import HepgenError

__all__ = ["atomic_path"]

#: OS errors that mean the storage refused more bytes: reported as a :class:`HepgenError`.
_FULL = {errno.ENOSPC: "ENOSPC", errno.EFBIG: "EFBIG", errno.EDQUOT: "EDQUOT"}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and rename it onto ``path`` on success.

    A writer that fails or is killed leaves no file under the final name (an older file
    there is kept); the temporary file is removed when the block raises.

    Arguments:
        path: the final output path.

    Raises:
        HepgenError: the disk is full, a quota is exceeded, or the file passes the file-size
            limit (``ulimit -f``) while the block writes: one line naming ``path`` and the error.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
    except OSError as err:
        if err.errno in _FULL:
            raise _full(final, err) from err
        raise
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    try:
        tmp.chmod(0o666 & ~umask)  # mkstemp creates 0600; final files get the usual mode
        yield tmp
        os.replace(tmp, final)
    except OSError as err:
        if err.errno in _FULL:
            raise _full(final, err) from err
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _full(final: Path, err: OSError) -> HepgenError:
    """The one-line error for storage that refused the bytes of ``final``."""
    reason = os.strerror(err.errno).lower()
    msg = f"cannot write {str(final)!r}: {reason} ({_FULL[err.errno]}); the output was not written"
    return HepgenError(msg)
