"""Validation of requests and results against the JSON Schemas generated from lib/toolkit-contract.ts."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

from .errors import BadInput

SCHEMA_DIR = Path(__file__).parent / "schemas"


def format_field_path(path: Iterable[Any]) -> str:
    """Formats a JSON path the way lib/field-path.ts does: ``manifest.inputs[0].dims``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += str(key) if out == "" else f".{key}"
    return out or "(root)"


@functools.cache
def schema_validator(file: str) -> jsonschema.Draft202012Validator:
    """Returns the Draft 2020-12 validator of the generated schema ``file`` (e.g. ``package-metadata.json``)."""
    schema = json.loads((SCHEMA_DIR / file).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validator(command: str, kind: str) -> jsonschema.Draft202012Validator:
    """Returns the Draft 2020-12 validator of ``<command>.<kind>.json`` (kind: request or result)."""
    return schema_validator(f"{command}.{kind}.json")


def first_problem(v: jsonschema.Draft202012Validator, value: Any) -> tuple[str, str, int] | None:
    """The most specific way ``value`` breaks the schema: ``(field, message, problems)``, or None."""
    errors = sorted(v.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return None
    err = _deepest(jsonschema.exceptions.best_match(errors))
    path = list(err.absolute_path)
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [k for k in err.validator_value if k not in err.instance]
        path += missing[:1]  # name the missing field itself, not its parent
    return format_field_path(path), err.message, len(errors)


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Descends into anyOf/oneOf context to the most specific error (the one with the longest path)."""
    best = error
    for sub in error.context or ():
        cand = _deepest(sub)
        if len(cand.absolute_path) > len(best.absolute_path):
            best = cand
    return best


def validate_request(command: str, request: Any) -> None:
    """Raises :class:`BadInput` naming the first wrong field of a request, if any."""
    problem = first_problem(validator(command, "request"), request)
    if problem is None:
        return
    field, message, count = problem
    more = f" (and {count - 1} more problem(s))" if count > 1 else ""
    raise BadInput(
        f"request field {field}: {message}{more}",
        field=field,
        hint=f"see {SCHEMA_DIR / f'{command}.request.json'} (generated from lib/toolkit-contract.ts)",
    )


def result_errors(command: str, result: Any) -> list[str]:
    """Returns ``field: message`` for every way a result breaks its schema (empty when it fits)."""
    return [
        f"{format_field_path(e.absolute_path)}: {e.message}" for e in validator(command, "result").iter_errors(result)
    ]
