"""The inverse of a fitted transform on torch tensors: network outputs → four-vectors, with gradients.

:meth:`Transform.inverse` returns a pandas table and draws the global azimuth; a loss on
physical quantities needs the same map on the generated batch, differentiable and on its
device. This one stops at the objects' four-vectors and leaves the global rotation at zero:
every invariant mass, ΔR or pT is the same as after :meth:`Transform.inverse` (the azimuths
differ by one common rotation per event), and it never leaves torch.
"""

from __future__ import annotations

from typing import Any

from hepgen.errors import HepgenError
from hepgen.preprocessing.representation import Representation
from hepgen.preprocessing.transform import Transform

__all__ = ["TensorInverse"]


class TensorInverse:
    """Network outputs of shape (n, d) → the coordinates and four-vectors of every object.

    Arguments:
        transform: a fitted transform with a representation (``ptetaphim`` or ``ptetaphie``).
    """

    def __init__(self, transform: Transform) -> None:
        if transform.representation is None:
            msg = "a loss on physical quantities needs a dataset with an event representation"
            raise HepgenError(msg)
        self.transform = transform
        self.representation: Representation = transform.representation

    def coordinates(self, y: Any) -> dict[str, Any]:
        """The learned coordinates (n,) each, with angles absolute up to a common rotation.

        Arguments:
            y: network outputs, a float tensor of shape (n, d) in the transform's feature order.
        """
        t = self.transform
        if y.ndim != 2 or y.shape[1] != len(t.features):
            msg = f"the inverse expects shape (n, {len(t.features)}), found {tuple(y.shape)}"
            raise HepgenError(msg)
        coords: dict[str, Any] = {}
        for j, feature in enumerate(t.features):
            x = y[:, j]
            for step in reversed(t.chains[feature]):
                x = step.inverse_tensor(x)
            coords[feature] = x
        for feature, value in t.constants.items():
            coords[feature] = y.new_full((len(y),), value)
        if t.phi is not None:  # the reference azimuth at 0: one rotation of the whole event
            reference = coords.get(t.phi.reference, y.new_zeros(len(y)))
            coords[t.phi.reference] = reference
            for column in t.phi.relative_columns(list(coords)):
                coords[column] = coords[column] + reference + t.phi.centres.get(column, 0.0)
        for c in self.representation.collections:  # slots beyond the multiplicity are absent
            if c.slots > c.min_count and f"n_{c.name}" in coords:
                count = coords[f"n_{c.name}"].detach().round().clamp(c.min_count, c.slots)
                for k, obj in enumerate(c.objects(), 1):
                    if k > c.min_count and f"{obj}_pt" in coords:
                        coords[f"{obj}_pt"] = coords[f"{obj}_pt"] * (count >= k)
        return coords

    def four_vectors(self, y: Any) -> dict[str, tuple[Any, Any, Any, Any]]:
        """(E, px, py, pz) [GeV] of every object: a system's daughters as ``<system>1``,
        ``<system>2``, every other object by name; absent objects all zero."""
        return self.representation.four_vectors(self.coordinates(y))
