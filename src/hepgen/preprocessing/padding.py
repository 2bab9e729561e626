"""Optional objects: the coordinates of an absent object are noise, not a spike at zero.

A slot that can be empty (``max`` > ``min`` in its collection) is learned as a presence, the
collection's multiplicity ``n_<name>``, plus kinematics that matter only where the object is
present. Zero padding would be a spike the network has to reproduce (and ``log pT`` of it is
−∞), so every absent slot's coordinates are filled with draws from the marginal of the present
objects in that slot on the training split (101 quantiles, linearly interpolated; for
per-object fields such as a b-tag, draws among the observed values). The inverse sets every
slot beyond the generated multiplicity to zero padding again, so generated kinematics of an
absent slot never reach the output. This is the "noise-filling" dequantisation used for
variable-length events by flows (e.g. arXiv:2305.10475).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["QUANTILES", "Padding"]

#: Quantiles stored per filled coordinate (0 %, 1 %, …, 100 %).
QUANTILES = 101


@dataclass
class Padding:
    """Per-coordinate fill distributions, measured on present objects of the training split.

    Arguments:
        seed: seeds the fill; the same table is filled the same way on every call.
        quantiles: coordinate → its :data:`QUANTILES` quantiles over present objects.
        discrete: coordinates filled with observed values only (per-object fields).
    """

    seed: int = 0
    quantiles: dict[str, list[float]] = field(default_factory=dict)
    discrete: list[str] = field(default_factory=list)

    def learn(self, column: str, present_values: np.ndarray, *, discrete: bool = False) -> None:
        """Store the fill distribution of ``column`` from its values where present (m,)."""
        if present_values.size == 0:
            return
        method = "lower" if discrete else "linear"
        levels = np.linspace(0.0, 1.0, QUANTILES)
        self.quantiles[column] = np.quantile(present_values, levels, method=method).tolist()
        if discrete and column not in self.discrete:
            self.discrete.append(column)

    def fill(self, columns: dict[str, np.ndarray], absent: dict[str, np.ndarray]) -> None:
        """Replace, in place, the values of absent objects by draws (column → (n,) mask)."""
        rng = np.random.default_rng(self.seed)
        for column in sorted(absent):
            mask = absent[column]
            if column not in self.quantiles or not mask.any():
                continue
            q = np.asarray(self.quantiles[column])
            if column in self.discrete:
                draws = q[rng.integers(0, len(q), int(mask.sum()))]
            else:
                draws = np.interp(rng.random(int(mask.sum())) * (len(q) - 1), np.arange(len(q)), q)
            values = np.array(columns[column], dtype=np.float64)
            values[mask] = draws
            columns[column] = values

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "quantiles": self.quantiles, "discrete": self.discrete}
