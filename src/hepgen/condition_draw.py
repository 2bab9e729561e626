"""Drawing a conditional generator file's events for given condition rows.

A conditional generator (:class:`hepgen.generator.Generator` of a model that learned
p(features | condition), :class:`hepgen.preprocessing.condition.Conditioning`) draws
``per_row`` events for every row of a table of condition values in physical units. The
events come back beside the values they were drawn for:

- a condition that is a learned coordinate and a column of the event table (``gen_pt`` of a
  fast-simulation dataset) is not generated: its column holds the given value;
- any other condition (a learned coordinate that is no table column, ``ll_m``; or an observable
  of the generated event, ``met``, ``ht``) is the column ``condition_<name>``, so that the
  generated event's own value, where it has one, stays beside the one asked for;
- ``condition_row`` (int64) is the 0-based position of the row each event was drawn for: the
  events of row i come in one block, in order, and events removed by the repair or the
  selection leave no doubt which row the others belong to.

The given values are returned exactly (float64), not passed back through the float32 network
space: every event carries its row position through the draw (two extra float32 columns, exact
below 2^44 events) and takes the values from the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from hepgen.errors import HepgenError
from hepgen.preprocessing.condition import PREFIX, Conditioning

__all__ = [
    "ROW",
    "RowTagged",
    "condition_table",
    "event_columns",
    "output_columns",
    "tagged_draw",
]

#: Column of the 0-based position of the condition row each event was drawn for.
ROW = f"{PREFIX}row"
#: Row positions travel as two float32 columns, ``position // _SPLIT`` and ``position % _SPLIT``.
_SPLIT = 2**20


def output_columns(conditioning: Conditioning) -> dict[str, str]:
    """``{condition: column of the returned events that holds its given value}``."""
    transform = conditioning.transform
    own = set(transform.features) & set(transform.columns)
    return {c: c if c in own else f"{PREFIX}{c}" for c in conditioning.columns}


def event_columns(conditioning: Conditioning) -> list[str]:
    """The columns of a conditional draw's events: the event table's, then the
    ``condition_<name>`` columns in the order of the conditions, then :data:`ROW`."""
    own = list(conditioning.transform.columns)
    extra = [c for c in output_columns(conditioning).values() if c not in own]
    return [*own, *extra, ROW]


def condition_table(
    condition: pd.DataFrame | Mapping[str, Any], conditioning: Conditioning, where: str
) -> pd.DataFrame:
    """The physical condition values (m, k), float64, in the order of ``conditioning.columns``.

    Arguments:
        condition: a DataFrame or a mapping of equal-length 1-d arrays, with one column per
            condition (its name, or ``condition_<name>`` as a drawn sample holds it), in
            physical units (GeV, rad).
        conditioning: the generator's conditioning.
        where: names the source in messages (``"condition"``, a file name).

    Raises:
        HepgenError: naming ``where`` and every missing column, or the columns with NaN/inf
            values, or an empty table.
    """
    if not isinstance(condition, pd.DataFrame):
        if not isinstance(condition, Mapping):
            msg = f"{where}: expected a pandas DataFrame or a dict of arrays, found {type(condition).__name__}"
            raise HepgenError(msg)
        try:
            condition = pd.DataFrame({k: np.asarray(v) for k, v in condition.items()})
        except ValueError as err:
            msg = f"{where}: the condition arrays must be 1-d and of one length ({err})"
            raise HepgenError(msg) from err
    names = conditioning.columns
    missing = [c for c in names if c not in condition and f"{PREFIX}{c}" not in condition]
    if missing:
        msg = (
            f"{where} lacks the condition columns {missing} (the generator needs {names}; "
            f"found {list(condition.columns)[:12]})"
        )
        raise HepgenError(msg)
    if condition.empty:
        raise HepgenError(f"{where} holds no condition rows")
    out = pd.DataFrame(index=range(len(condition)))
    for name in names:
        column = name if name in condition else f"{PREFIX}{name}"
        try:
            out[name] = np.asarray(condition[column], dtype=np.float64)
        except (TypeError, ValueError) as err:
            msg = f"{where}: condition column {column!r} is not numeric ({err})"
            raise HepgenError(msg) from err
    bad = {c: int((~np.isfinite(out[c])).sum()) for c in names}
    bad = {c: count for c, count in bad.items() if count}
    if bad:
        msg = f"{where}: condition columns hold NaN/inf values (rows per column: {bad})"
        raise HepgenError(msg)
    return out


class RowTagged(nn.Module):
    """A conditional model whose draws carry each event's row position as two extra inputs.

    ``sample(n, generator, condition)`` takes condition rows (n, k + 2): the model's k
    transformed conditions, then the position split in two exact float32 columns; it draws from
    the wrapped model with the first k and returns its events (n, d) followed by the two
    position columns, so the draws equal the wrapped model's for the same generator.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.inner = model
        self.model_type: str = model.model_type
        self.conditions: int = model.conditions + 2
        self.features: int = model.features + 2

    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Tensor:
        k = self.inner.conditions
        x = self.inner.sample(n, generator, condition=condition[:, :k])
        return torch.cat([x, condition[:, k:].to(x.dtype)], dim=1)


def tagged_draw(
    conditioning: Conditioning, rows: pd.DataFrame, per_row: int
) -> tuple[np.ndarray, Callable[[np.ndarray, np.random.Generator], pd.DataFrame]]:
    """The condition inputs of ``len(rows) * per_row`` events for :class:`RowTagged`, and
    the inverse that maps its draws to event tables with the given values (module docstring).

    Arguments:
        conditioning: the generator's conditioning.
        rows: physical condition values (m, k) (:func:`condition_table`).
        per_row: events per row; event i is drawn for row i // per_row.

    Returns:
        ``(inputs, inverse)``: float32 (m * per_row, k + 2), and ``inverse(x, rng)`` for the
        draws x (n', d + 2) of any subset of the events.
    """
    n = len(rows) * per_row
    if n >= _SPLIT * 2**24:
        raise HepgenError(f"{n} events in one draw are too many (at most 2^44)")
    encoded = np.repeat(conditioning.encode(rows), per_row, axis=0)
    position = np.arange(n, dtype=np.int64)
    tags = np.stack([position // _SPLIT, position % _SPLIT], axis=1).astype(np.float32)
    inputs = np.concatenate([encoded, tags], axis=1)
    columns = output_columns(conditioning)
    values = {name: rows[name].to_numpy(np.float64) for name in conditioning.columns}
    order = event_columns(conditioning)

    def inverse(x: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        tag = x[:, -2:].astype(np.int64)
        row = (tag[:, 0] * _SPLIT + tag[:, 1]) // per_row
        table = conditioning.inverse(x[:, :-2], rng=rng)
        for name, column in columns.items():
            table[column] = values[name][row]
        table[ROW] = row
        return table[order]

    return inputs, inverse
