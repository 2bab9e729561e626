"""The metrics record: one-line summary, sampling figures of merit and the atomic JSON writer."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from hepgen.errors import HepgenError
from hepgen.files import atomic_path

__all__ = ["sampling_record", "summary", "write_metrics"]


def summary(metrics: Mapping[str, Any]) -> str:
    """One log line: AUC, mean W1, FPD and data copying, each with its floor.

    Arguments:
        metrics: an :func:`hepgen.metrics.evaluate` result.

    Returns:
        e.g. ``"AUC 0.612 ± 0.010 (floor 0.503), mean W1/sigma 0.0412 (floor 0.0120), ..."``.
    """
    auc, w1 = metrics["auc"], metrics["w1"]["mean"]
    parts = [
        f"AUC {auc['value']:.3f} ± {auc.get('err', 0.0):.3f} (floor {auc['floor']:.3f})",
        f"mean W1/sigma {w1['value']:.4f} (floor {w1['floor']:.4f})",
    ]
    if "fpd" in metrics:
        fpd = metrics["fpd"]
        parts.append(f"FPD {fpd['value']:.4g} (floor {fpd['floor']:.4g})")
    if "memorisation" in metrics:
        z = metrics["memorisation"]["z_u"]
        parts.append(f"data-copying C_T {z['value']:.2f} (floor {z['floor']:.2f})")
    parts.append(f"{metrics['n_compared']} events compared")
    return ", ".join(parts)


def sampling_record(info: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Sampling rate and the fraction of valid events before repair, from the sampling record.

    The valid fraction is read from whichever of these the sampling stage wrote:
    ``valid_fraction``, ``invalid_fraction`` (1 minus it), ``validity`` (a number or a mapping
    with one of those keys) or ``repair`` (a mapping with one of those keys, or with counts
    ``invalid`` and ``events``).

    Arguments:
        info: the contents of ``samples/{model}.json``, or ``None``.

    Returns:
        ``{"rate_hz": events per second or None, "valid_fraction": in [0, 1] or None,
        "removed": events removed as unusable (NaN/inf, outside the transform's support) or
        None, "unphysical_fraction": events invalid for another reason than the selection
        (E < |p|, negative pT, ...) or None, "outside_selection_fraction": drawn events that
        failed the dataset's selection and were dropped, or None}``.
    """
    info = dict(info or {})
    rate = info.get("rate_hz")
    validity = info.get("validity")
    validity = validity if isinstance(validity, Mapping) else {}
    removed, unphysical = validity.get("removed"), validity.get("unphysical_fraction")
    outside, drawn = validity.get("outside_selection"), validity.get("events")
    return {
        "rate_hz": float(rate) if isinstance(rate, int | float) else None,
        "valid_fraction": _valid_fraction(info),
        "removed": int(removed) if isinstance(removed, int) else None,
        "unphysical_fraction": float(unphysical) if isinstance(unphysical, int | float) else None,
        "outside_selection_fraction": (
            outside / drawn
            if isinstance(outside, int) and isinstance(drawn, int) and drawn
            else None
        ),
    }


def _valid_fraction(info: Mapping[str, Any]) -> float | None:
    for holder in (info, info.get("validity"), info.get("repair")):
        if isinstance(holder, int | float) and not isinstance(holder, bool):
            return float(holder)
        if not isinstance(holder, Mapping):
            continue
        if isinstance(holder.get("valid_fraction"), int | float):
            return float(holder["valid_fraction"])
        if isinstance(holder.get("invalid_fraction"), int | float):
            return 1.0 - float(holder["invalid_fraction"])
        invalid, events = holder.get("invalid"), holder.get("events")
        if isinstance(invalid, int) and isinstance(events, int) and events > 0:
            return 1.0 - invalid / events
    return None


def write_metrics(path: str | os.PathLike, metrics: Mapping[str, Any]) -> None:
    """Write a metrics record as JSON, atomically; NaN or infinity is refused.

    Arguments:
        path: output ``.json`` path.
        metrics: plain JSON values (an :func:`hepgen.metrics.evaluate` result plus labels and
            provenance).
    """
    try:
        text = json.dumps(metrics, indent=2, allow_nan=False)
    except ValueError as error:
        msg = f"metrics for {path} hold NaN or infinity and cannot be written as JSON ({error})"
        raise HepgenError(msg) from error
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
