"""Tests of the Markdown and LaTeX leaderboard tables."""

from __future__ import annotations

import pytest

from hepgen.plotting.leaderboard import leaderboard_table
from hepgen.plotting.tables import best_models, format_pm, latex_tables, markdown_tables


@pytest.mark.parametrize(
    ("value", "err", "expected"),
    [
        (0.32834, 0.0038, ("0.328", "0.004", 0)),
        (0.99612, 0.0011, ("0.9961", "0.0011", 0)),
        (10.2489, 0.267, ("10.25", "0.27", 0)),
        (0.0013149, 0.000226, ("1.31", "0.23", -3)),
        (-15.81, 0.099, ("-15.81", "0.10", 0)),
        (3.3377, 3.6, ("3", "4", 0)),
        (0.5, float("nan"), ("0.5", "", 0)),
        (float("nan"), 0.1, ("—", "", 0)),
    ],
)
def test_rounding_to_the_uncertainty(value: float, err: float, expected: tuple) -> None:
    assert format_pm(value, err) == expected


def test_markdown_has_a_floor_row_per_dataset_and_every_model(records) -> None:
    text = markdown_tables(leaderboard_table(records))
    assert "| dy_mumu | floor (truth) | 0.505 ± 0.005 |" in text
    assert "| dy_mumu | bvae | 0.550 ± 0.010 |" in text
    assert "| ttbar | vae | 0.710 ± 0.010 |" in text
    assert "| dy_mumu | bvae | 0.010 ± 0.010 | — |" in text  # FPD present, KPD missing
    assert text.count("floor (truth)") == 4  # two tables, two datasets
    assert "-15.00 ± 0.010" not in text and "-15.000 ± 0.010" in text


def test_floors_that_differ_between_models_go_into_each_cell(
    records, make_record, make_entry
) -> None:
    records = records[1:]
    metrics = {**make_record(0.64, 0.05), "auc": make_entry(0.64, 0.52)}
    records[0] = {**records[0], "metrics": metrics}
    text = markdown_tables(leaderboard_table(records))
    assert "| dy_mumu | floor (truth) | per cell |" in text
    assert "0.640 ± 0.010 [0.52]" in text


def test_latex_is_booktabs_with_escaped_names(records) -> None:
    renamed = [{**records[1], "model": "vae_nf", "dataset": "dy_mumu"}]
    text = latex_tables(leaderboard_table(renamed))
    assert text.count("\\toprule") == 2 and text.count("\\bottomrule") == 2
    assert "dy\\_mumu & vae\\_nf & $0.640 \\pm 0.010$" in text
    assert "---" in text  # missing metrics


def test_the_best_model_is_the_closest_to_its_floor_that_does_not_copy(records) -> None:
    frame = leaderboard_table(records)
    # bvae has the lower AUC on dy_mumu but copies its training events (C_T = -15)
    assert best_models(frame) == {"dy_mumu": "vae", "ttbar": "vae"}
    text = markdown_tables(frame)
    assert "**Best on dy_mumu: vae** (AUC − floor 0.135, C_T " in text
    only_copies = leaderboard_table(records[2:])
    assert best_models(only_copies) == {"dy_mumu": None}
    assert "**Best on dy_mumu:** none (every model copies" in markdown_tables(only_copies)
