"""Seeds of every random source, derived from the config's master seed."""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed"]


def derive_seed(master: int, *names: object) -> int:
    """A stable seed in [0, 2**31) for one random source, derived from the config's master seed.

    Arguments:
        master: the config's ``seed``.
        names: what the source is, e.g. ``("simulate", "dy_mumu", 3)``.
    """
    text = "/".join(str(n) for n in (master, *names))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") >> 1
