"""The workflow config: user sections that replace the default's, and validation against its
JSON Schema with one-line errors."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hepgen.errors import HepgenError

__all__ = ["WHOLE_SECTIONS", "replace_user_sections", "validate_config"]

#: Top-level keys a config file gives whole: they replace the default's instead of merging.
WHOLE_SECTIONS = ("datasets", "models", "sweeps")


def _merge(base: Any, over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base`` as Snakemake merges configs: mappings key by key,
    anything else replaced."""
    merged = dict(base) if isinstance(base, Mapping) else {}
    for key, value in over.items():
        if isinstance(value, Mapping):
            merged[key] = _merge(merged.get(key, {}), value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def replace_user_sections(
    config: MutableMapping[str, Any],
    user_configs: Sequence[Mapping[str, Any]],
    *,
    overrides: Mapping[str, Any] | None = None,
    keys: Sequence[str] = WHOLE_SECTIONS,
) -> list[str]:
    """Give each key in ``keys`` whole from the last user config file that sets it.

    Snakemake merges every ``--configfile`` over the workflow's ``configfile:`` key by key, so a
    user's ``datasets: {mine: ...}`` would run the default's datasets too. This undoes that for
    ``keys`` only: such a key takes the value of the last file in ``user_configs`` that sets it,
    with the command line's ``--config`` values (``overrides``) merged over it as Snakemake
    merges them. Keys no user file sets, and all other keys, stay as Snakemake merged them.

    Arguments:
        config: the config Snakemake merged (default, then user files, then ``--config``);
            changed in place.
        user_configs: the contents of the ``--configfile`` files, in command-line order.
        overrides: the ``--config`` key-value pairs.
        keys: the top-level keys given whole.

    Returns:
        The keys taken from a user file, in the order of ``keys``.
    """
    overrides = overrides or {}
    replaced = []
    for key in keys:
        given = [user[key] for user in user_configs if key in user]
        if not given:
            continue
        value = copy.deepcopy(given[-1])
        if key in overrides:
            value = _merge({key: value}, {key: overrides[key]})[key]
        config[key] = value
        replaced.append(key)
    return replaced


def _key_path(error: jsonschema.ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(top level)"


def validate_config(config: dict[str, Any], schema: str | os.PathLike) -> None:
    """Check ``config`` against the JSON Schema (draft 2020-12) in the YAML file ``schema``.

    Raises:
        HepgenError: naming the config key, what was expected and what was found,
            for the most relevant error (``jsonschema.exceptions.best_match``).
    """
    spec = yaml.safe_load(Path(schema).read_text())
    validator = jsonschema.Draft202012Validator(spec)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        msg = f"config key {_key_path(error)}: {error.message}"
        raise HepgenError(msg)
