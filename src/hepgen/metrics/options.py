"""Settings of the evaluate stage (config key ``evaluate``), checked once with clear messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hepgen.errors import HepgenError

__all__ = ["EvaluateOptions"]

_INTEGERS = {"bootstrap": 2, "splits": 1, "bins": 2, "quantiles": 2}
_MEMORISATION = {"max_events": 10, "cells": 1}


@dataclass(frozen=True)
class EvaluateOptions:
    """Options of :func:`hepgen.metrics.evaluate`.

    Attributes:
        bootstrap: resamples of both samples behind every uncertainty.
        splits: random splits of the truth into halves whose one-dimensional metrics are
            averaged (value and floor); one split alone scatters by about 30 % (W1/σ of a
            resonance mass with 5k events a half).
        bins: histogram bins per continuous feature (separation power, chi2/ndf).
        quantiles: equal-probability truth quantiles ``N_q`` of the quantile MSE*.
        classifier: ``{"max_iter": int, ...}`` options of the two-sample classifier.
        memorisation_events: most events of each sample queried for nearest-training-event
            distances (bounds the time of the data-copying test).
        cells: most k-means cells of the data-copying test.
    """

    bootstrap: int = 30
    splits: int = 10
    bins: int = 40
    quantiles: int = 20
    classifier: Mapping[str, Any] = field(default_factory=lambda: {"max_iter": 100})
    memorisation_events: int = 3000
    cells: int = 10

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> EvaluateOptions:
        """Build from the config section ``evaluate`` (missing keys take the defaults).

        Arguments:
            section: e.g. ``{"bootstrap": 30, "classifier": {"max_iter": 200},
                "memorisation": {"max_events": 3000, "cells": 10}}``.

        Returns:
            The checked options.
        """
        section = dict(section or {})
        known = {*_INTEGERS, "classifier", "memorisation"}
        unknown = sorted(set(section) - known)
        if unknown:
            msg = f"config evaluate: unknown keys {unknown}; known keys are {sorted(known)}"
            raise HepgenError(msg)
        values: dict[str, Any] = {}
        for key, minimum in _INTEGERS.items():
            if key in section:
                values[key] = _integer(section[key], f"evaluate.{key}", minimum)
        memorisation = dict(section.get("memorisation") or {})
        unknown = sorted(set(memorisation) - set(_MEMORISATION))
        if unknown:
            msg = f"config evaluate.memorisation: unknown keys {unknown}; known keys are {sorted(_MEMORISATION)}"
            raise HepgenError(msg)
        if "max_events" in memorisation:
            values["memorisation_events"] = _integer(
                memorisation["max_events"], "evaluate.memorisation.max_events", 10
            )
        if "cells" in memorisation:
            values["cells"] = _integer(memorisation["cells"], "evaluate.memorisation.cells", 1)
        if "classifier" in section:
            classifier = section["classifier"]
            if not isinstance(classifier, Mapping):
                msg = f"config evaluate.classifier must be a mapping, found {classifier!r}"
                raise HepgenError(msg)
            values["classifier"] = dict(classifier)
        return cls(**values)


def _integer(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"config {key} must be an integer >= {minimum}, found {value!r}"
        raise HepgenError(msg)
    return value
