"""Hyperparameter sweeps: a config grid expands into named model entries, one target each."""

from __future__ import annotations

import collections
import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hepgen.errors import HepgenError

__all__ = [
    "NAME_PATTERN",
    "TRAINING_PREFIX",
    "check_unique_names",
    "check_variants",
    "expand_sweeps",
    "variant_name",
]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
"""What a model or sweep name may look like (the config schema's ``$defs/name``)."""

TRAINING_PREFIX = "training."
"""Grid keys with this prefix set a training key (``training.lr``); others set a model param."""

SEED_KEY = "seed"
"""The grid key that sets the entry's training replica ``seed`` (``seed: [1, 2, 3]``)."""


def _format_value(value: Any, *, sweep: str, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float: distinct → distinct
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.+-]+", value):
        return value
    msg = (
        f"config sweeps '{sweep}': grid axis '{key}' holds {value!r}; "
        "expected numbers, booleans or strings of letters, digits and _.+-"
    )
    raise HepgenError(msg)


def _labels(keys: Sequence[str]) -> list[str]:
    short = [k.removeprefix(TRAINING_PREFIX) for k in keys]
    return [s if short.count(s) == 1 else k for s, k in zip(short, keys, strict=True)]


def variant_name(sweep: str, point: Mapping[str, Any]) -> str:
    """The model name of one grid point, e.g. ``bvae_grid-beta1e-06-latent8-lr0.001``.

    Arguments:
        sweep: the sweep's ``name``.
        point: grid key → value, in the grid's axis order.

    Returns:
        ``<sweep>-<label><value>-...``; the label of ``training.<key>`` is ``<key>`` unless
        a model param has the same name.
    """
    keys = list(point)
    parts = [
        f"{label}{_format_value(point[key], sweep=sweep, key=key)}"
        for label, key in zip(_labels(keys), keys, strict=True)
    ]
    return "-".join([sweep, *parts])


def _variant(sweep: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(sweep.get("params") or {})
    training = dict(sweep.get("training") or {})
    seed = None
    for key, value in point.items():
        if key.startswith(TRAINING_PREFIX):
            training[key.removeprefix(TRAINING_PREFIX)] = value
        elif key == SEED_KEY:
            seed = value
        else:
            params[key] = value
    entry: dict[str, Any] = {"name": variant_name(sweep["name"], point), "type": sweep["type"]}
    entry["params"] = params
    if seed is not None:
        entry["seed"] = seed
    if training:
        entry["training"] = training
    for key in ("refine", "mmd", "condition"):  # shared by every variant
        if key in sweep:
            entry[key] = sweep[key]
    return entry


def _axes(sweep: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = sweep["name"]
    grid = sweep.get("grid") or {}
    if not grid:
        msg = f"config sweeps '{name}': grid is empty; expected at least one axis, e.g. {{beta: [1.0e-6, 1.0e-3]}}"
        raise HepgenError(msg)
    axes = {}
    for key, values in grid.items():
        if not isinstance(values, list | tuple) or len(values) == 0:
            msg = f"config sweeps '{name}': grid axis '{key}' is {values!r}; expected a non-empty list of values"
            raise HepgenError(msg)
        axes[key] = list(values)
    return axes


def expand_sweeps(sweeps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Expand sweep entries into model entries, one per point of each sweep's grid.

    A sweep ``{name, type, params, training, grid}`` gives the Cartesian product of its grid
    axes (axis order and value order as written), each point a model entry
    ``{name, type, params, training}`` (the shape of a ``models`` entry) whose ``params`` are the sweep's ``params``
    updated by the point's model keys and whose ``training`` is the sweep's ``training``
    updated by the point's ``training.<key>`` keys; the axis ``seed`` sets the entry's
    training replica ``seed`` (training seeds as a sweep axis); a sweep's ``refine``, ``mmd`` and ``condition``
    are every variant's.

    Arguments:
        sweeps: the config's ``sweeps`` list.

    Returns:
        The model entries, sweep by sweep, in grid order.

    Raises:
        HepgenError: for an empty grid or axis, a value that cannot be part of a name, a
            sweep or variant name that is not a valid model name, or duplicate variant names.
    """
    entries: list[dict[str, Any]] = []
    for sweep in sweeps:
        if not NAME_PATTERN.match(str(sweep.get("name", ""))):
            msg = f"config sweeps: name {sweep.get('name')!r} must match {NAME_PATTERN.pattern}"
            raise HepgenError(msg)
        axes = _axes(sweep)
        for values in itertools.product(*axes.values()):
            entries.append(_variant(sweep, dict(zip(axes, values, strict=True))))
    check_unique_names(entries, what="config sweeps")
    return entries


def check_unique_names(entries: Iterable[Mapping[str, Any]], *, what: str) -> None:
    """Raise :class:`~hepgen.devices.HepgenError` when two entries share a ``name``.

    Arguments:
        entries: model entries (explicit ``models`` and expanded sweeps).
        what: the config key named in the message.
    """
    counts = collections.Counter(entry["name"] for entry in entries)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        msg = f"{what}: duplicate model names {duplicates}; every model and sweep variant needs its own name"
        raise HepgenError(msg)


def check_variants(entries: Iterable[Mapping[str, Any]], schema: str | os.PathLike) -> None:
    """Check expanded sweep entries against the schema of one ``models`` entry.

    The grid may set any ``training`` key; this catches a value the schema forbids there
    (e.g. ``training.lr: [-1.0]``) before any job starts.

    Arguments:
        entries: model entries from :func:`expand_sweeps`.
        schema: the workflow's config schema (YAML, JSON Schema draft 2020-12).

    Raises:
        HepgenError: naming the variant, the key, what was expected and what was found.
    """
    spec = yaml.safe_load(Path(schema).read_text())
    item = {"$defs": spec.get("$defs", {}), **spec["properties"]["models"]["items"]}
    validator = jsonschema.Draft202012Validator(item)
    for entry in entries:
        error = jsonschema.exceptions.best_match(validator.iter_errors(dict(entry)))
        if error is not None:
            key = ".".join(str(p) for p in error.absolute_path) or "(entry)"
            msg = f"config sweeps variant '{entry['name']}': key {key}: {error.message}"
            raise HepgenError(msg)
