"""Test helpers: the digits manifest as the orchestration side hands it over (defaults applied),
and an in-process runner of toolkit commands that checks every result against its schema.

(Named uniquely: test modules import it, and other test folders have their own conftest/helpers.)
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from modelship_toolkit import cli
from modelship_toolkit.schema import result_errors

ROOT = Path(__file__).resolve().parents[2]
TOOLKIT = ROOT / "toolkit"
EXAMPLE = ROOT / "examples" / "digits"
SCHEMAS = TOOLKIT / "modelship_toolkit" / "schemas"
TOOLKIT_PATH = TOOLKIT


def _branch(schemas: list[dict[str, Any]], value: Any) -> dict[str, Any] | None:
    """Picks the anyOf/oneOf branch whose const properties (the discriminator) match ``value``."""
    for s in schemas:
        props = s.get("properties", {})
        consts = {k: p["const"] for k, p in props.items() if "const" in p}
        if s.get("type") == "object" and isinstance(value, dict) and consts and all(value.get(k) == v for k, v in consts.items()):
            return s
    objects = [s for s in schemas if s.get("type") == "object"]
    return objects[0] if len(objects) == 1 and isinstance(value, dict) else None


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Fills JSON Schema ``default``s into ``value`` (recursively), the way zod's parse does."""
    if "anyOf" in schema or "oneOf" in schema:
        branch = _branch(schema.get("anyOf") or schema.get("oneOf"), value)
        return apply_defaults(branch, value) if branch else value
    if isinstance(value, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = apply_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in schema["properties"]:
                    value[key] = apply_defaults(extra, value[key])
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(schema["items"], v) for v in value]
    return value


def digits_manifest() -> dict[str, Any]:
    """Returns examples/digits/modelship.yaml with defaults applied, as requests carry it."""
    raw = yaml.safe_load((EXAMPLE / "modelship.yaml").read_text())
    schema = json.loads((SCHEMAS / "manifest.json").read_text())
    return apply_defaults(schema, raw)


def error_shape_errors(result: dict[str, Any]) -> list[str]:
    """Checks a result against ToolkitErrorResultSchema (lib/toolkit-contract.ts), which has no generated file."""
    err = result.get("error")
    if set(result) != {"error"} or not isinstance(err, dict):
        return ["expected exactly {error: {...}}"]
    problems = [f"error.{k} must be a string" for k in ("type", "message") if not isinstance(err.get(k), str)]
    problems += [f"error.{k} must be a string" for k in ("field", "hint") if k in err and not isinstance(err[k], str)]
    return problems


class Toolkit:
    """Runs toolkit commands in-process through the CLI's ``run`` and checks every result's shape."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.calls = 0

    def __call__(self, command: str, request: Any) -> tuple[int, dict[str, Any]]:
        """Writes the request, runs the command, returns (exit code, result); asserts the result fits its schema."""
        self.calls += 1
        req, res = self.tmp / f"{command}.{self.calls}.request.json", self.tmp / f"{command}.{self.calls}.result.json"
        req.write_text(request if isinstance(request, str) else json.dumps(request))
        code = cli.run(command, str(req), str(res))
        result = json.loads(res.read_text())
        problems = result_errors(command, result) if code in (0, 3) else error_shape_errors(result)
        assert not problems, f"{command} exit {code}: result breaks its schema: {problems}\n{result}"
        assert not [p for p in res.parent.iterdir() if p.name.endswith(".tmp")], "a temporary result file remained"
        return code, result


def base_request(repo: Path, manifest: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A request with repoDir, manifest and the checkpoint, plus ``extra`` fields."""
    return {"repoDir": str(repo), "manifest": copy.deepcopy(manifest), "checkpointPath": "artifacts/model_best.pt", **extra}
