"""Run-time helpers shared by every stage: logging, atomic writes, seeding, device choice."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import logging
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "HepgenError",
    "atomic_path",
    "derive_seed",
    "pick_device",
    "positive_int",
    "retain_freed_memory",
    "script_logging",
    "seed_everything",
]


log = logging.getLogger(__name__)


class HepgenError(RuntimeError):
    """An error in the user's input or config, reported with one clear message."""


def script_logging(log_path: str | os.PathLike | None, level: int = logging.INFO) -> logging.Logger:
    """Send ``logging`` records and stderr of a workflow script to its Snakemake log file.

    Arguments:
        log_path: the rule's ``log[0]``; ``None`` keeps stderr.
        level: the root logger level.

    Returns:
        The ``hepgen`` logger.
    """
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the script
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return logging.getLogger("hepgen")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and rename it onto ``path`` on success.

    A writer that fails or is killed leaves no file under the final name; the temporary
    file is removed when the block raises.

    Arguments:
        path: the final output path.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp creates 0600; final files get the usual mode
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def positive_int(value: object, what: str) -> int:
    """``value`` if it is an integer >= 1 (not a bool); else :class:`HepgenError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{what} must be a positive integer, found {value!r}"
        raise HepgenError(msg)
    return value


def derive_seed(master: int, *names: object) -> int:
    """A stable seed in [0, 2**31) for one random source, derived from the config's master seed.

    Arguments:
        master: the config's ``seed``.
        names: what the source is, e.g. ``("simulate", "dy_mumu", 3)``.
    """
    text = "/".join(str(n) for n in (master, *names))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") >> 1


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch global generators and return a NumPy generator.

    Arguments:
        seed: a non-negative integer from the config.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - libraries that still use the global state
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(name: str = "auto") -> str:
    """Return ``"cuda"`` when requested or available (``"auto"``), else ``"cpu"``.

    Arguments:
        name: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """
    import torch

    if name not in {"auto", "cpu", "cuda"}:
        msg = f"device must be 'auto', 'cpu' or 'cuda', found {name!r}"
        raise HepgenError(msg)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        msg = "device 'cuda' was requested but torch.cuda.is_available() is False"
        raise HepgenError(msg)
    return name


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters of glibc's malloc.h
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


@functools.cache
def retain_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of returning it to the system.

    Every CPU training step and every sampling network call allocates and frees activations
    of batch x hidden floats (512 KiB for the default VAE). With glibc's default, adaptive
    thresholds such blocks are handed back to the kernel and faulted in again on the next
    call: hundreds of page faults per step and about 10 % of a step's CPU time. Serving blocks up to 32 MiB from the heap and
    trimming it only beyond 128 MiB of free memory avoids that; the arithmetic, and so every
    result, is unchanged. Applies to the whole process, once; skipped off glibc and when the
    environment already sets malloc options.

    Returns:
        Whether the thresholds were set.
    """
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        glibc = ""
    if not glibc.startswith("glibc") or any(key in os.environ for key in _MALLOC_ENV):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    done = libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20) == 1
    done = done and libc.mallopt(_M_TRIM_THRESHOLD, 128 << 20) == 1
    log.debug("malloc keeps freed memory below 128 MiB: %s", done)
    return done
