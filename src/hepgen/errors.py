"""The error every stage raises on bad input, and the checks shared by several config keys."""

from __future__ import annotations

__all__ = ["HepgenError", "positive_int"]


class HepgenError(RuntimeError):
    """An error in the user's input or config, reported with one clear message."""


def positive_int(value: object, what: str) -> int:
    """``value`` if it is an integer >= 1 (not a bool); else :class:`HepgenError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{what} must be a positive integer, found {value!r}"
        raise HepgenError(msg)
    return value
