"""Tests of the evaluate options (config key ``evaluate``)."""

from __future__ import annotations

import pytest

from hepgen.errors import HepgenError
from hepgen.metrics.options import EvaluateOptions


def test_config_section_is_read() -> None:
    options = EvaluateOptions.from_config(
        {
            "bootstrap": 12,
            "splits": 4,
            "quantiles": 10,
            "classifier": {"max_iter": 50},
            "memorisation": {"max_events": 500, "cells": 4},
        }
    )
    assert (options.bootstrap, options.splits, options.bins, options.quantiles) == (12, 4, 40, 10)
    assert options.classifier == {"max_iter": 50}
    assert (options.memorisation_events, options.cells) == (500, 4)
    assert EvaluateOptions.from_config(None) == EvaluateOptions()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"bootstrapp": 3}, r"unknown keys \['bootstrapp'\]"),
        ({"bootstrap": 1}, r"evaluate.bootstrap must be an integer >= 2, found 1"),
        ({"bins": True}, r"evaluate.bins must be an integer"),
        ({"splits": 0}, r"evaluate.splits must be an integer >= 1, found 0"),
        ({"memorisation": {"cells": 0}}, r"evaluate.memorisation.cells must be an integer >= 1"),
        ({"memorisation": {"k": 3}}, r"evaluate.memorisation: unknown keys \['k'\]"),
        ({"classifier": 3}, "evaluate.classifier must be a mapping"),
    ],
)
def test_bad_values_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(HepgenError, match=message):
        EvaluateOptions.from_config(section)
