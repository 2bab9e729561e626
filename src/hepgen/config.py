"""Validation of the workflow config against its JSON Schema, with one-line errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hepgen.runtime import HepgenError

__all__ = ["validate_config"]


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
