"""Branch roles: the shape and dtype each branch named by a dataset spec must have.

Ingestion reads a branch in one of two shapes, whatever the ntuple format (TTree or RNTuple):

* *jagged*: ``var * number`` per event, one value per object (an object field named by one
  branch, as in NanoAOD-style ntuples);
* *flat*: one number per event (MET components, the event weight, scalars, and each per-slot
  branch of an object field given as a list, as in flat ntuples).

A *number* is a boolean (read as 0/1), an integer or a floating-point value. The types are
found from the file's metadata (a TBranch's interpretation, an RNTuple field's form), so a
mismatch is reported, naming the file, tree, branch and role, before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import uproot

from hepgen.errors import HepgenError
from hepgen.io.spec import DatasetSpec

__all__ = ["Role", "branch_roles", "branch_type", "check_roles", "describe"]

#: Awkward primitives that ingestion converts to float64 exactly (integers above 2**53 round).
NUMBERS = frozenset(
    {"bool", "float16", "float32", "float64"}
    | {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
)


@dataclass(frozen=True)
class Role:
    """What the config asks of one branch.

    Arguments:
        key: what the config reads the branch as, for messages (``met.pt``, ``the weight`` …).
        jagged: ``var * number`` per event (one value per object) if true, else one number.
    """

    key: str
    jagged: bool

    @property
    def needs(self) -> str:
        if self.jagged:
            return "jagged var * number (one value per object)"
        return "a flat number (one value per event)"

    def accepts(self, found: ak.types.Type | str) -> bool:
        """True when a branch of per-event type ``found`` can be read in this role."""
        if isinstance(found, str):  # a type without an array interpretation
            return False
        if self.jagged:
            if not isinstance(found, ak.types.ListType) or _is_string(found):
                return False
            found = found.content
        return isinstance(found, ak.types.NumpyType) and found.primitive in NUMBERS


def branch_roles(spec: DatasetSpec) -> list[tuple[str, Role]]:
    """Every (branch, role) the spec reads, in table order; a branch may have several roles."""
    roles: list[tuple[str, Role]] = []
    for obj in spec.objects:
        for name, branch in obj.branches.items():
            what = f"field '{name}' of objects '{obj.name}'"
            if isinstance(branch, list):
                roles.extend(
                    (b, Role(f"slot {k + 1} of {what}", jagged=False)) for k, b in enumerate(branch)
                )
            else:
                roles.append((branch, Role(what, jagged=True)))
    if spec.met is not None:
        for component in ("pt", "phi", "px", "py"):
            branch = getattr(spec.met, component)
            if branch:
                roles.append((branch, Role(f"met.{component}", jagged=False)))
    roles.extend((name, Role("a scalar", jagged=False)) for name in spec.scalars)
    if spec.weight:
        roles.append((spec.weight, Role("the weight", jagged=False)))
    return roles


def branch_type(tree: Any, branch: str) -> ak.types.Type | str:
    """The per-event type of ``branch`` as ingestion reads it, from metadata only.

    Arguments:
        tree: an open TTree or RNTuple; ``branch`` one of its keys (an RNTuple subfield is
            written ``parent.field``).

    Returns:
        An awkward type without the event dimension (``float32``, ``var * float32`` …), or the
        ROOT type name when uproot has no array interpretation for the branch.
    """
    if isinstance(tree, uproot.behaviors.RNTuple.HasFields):
        field = tree[branch]
        form, _ = tree.to_akform(filter_field=lambda f: f.path == field.path)
        empty = ak.Array(form.length_zero_array())
        return empty[tuple(branch.split("."))].type.content
    tbranch = tree[branch]
    try:
        return tbranch.interpretation.awkward_form(None).type
    except Exception:  # uproot raises several types for branches it cannot interpret
        return f"{tbranch.typename or 'an unknown type'} (not readable as an array)"


def describe(found: ak.types.Type | str) -> str:
    """A short name of a per-event type: ``flat float32``, ``jagged var * float32`` or its
    awkward spelling (``var * var * float64``, ``string`` …)."""
    if isinstance(found, str):
        return found
    if isinstance(found, ak.types.NumpyType):
        return f"flat {found}"
    if (
        isinstance(found, ak.types.ListType)
        and not _is_string(found)
        and isinstance(found.content, ak.types.NumpyType)
    ):
        return f"jagged {found}"
    return str(found)


def check_roles(tree: Any, spec: DatasetSpec, path: str) -> None:
    """Check the type of every branch the spec reads against its role.

    Arguments:
        tree: the open TTree or RNTuple ``spec.tree`` of the file ``path``; every branch of
            the spec exists in it.

    Raises:
        HepgenError: one line naming the file, tree, branch, the type found and the one needed.
    """
    found: dict[str, ak.types.Type | str] = {}
    for branch, role in branch_roles(spec):
        if branch not in found:
            found[branch] = branch_type(tree, branch)
        if not role.accepts(found[branch]):
            msg = (
                f"{path!r}, tree {spec.tree!r}: branch {branch!r} is {describe(found[branch])}, "
                f"but as {role.key} it must be {role.needs}"
            )
            raise HepgenError(msg)


def _is_string(found: ak.types.Type) -> bool:
    return found.parameter("__array__") in {"string", "bytestring"}
