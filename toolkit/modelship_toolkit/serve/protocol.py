"""The Open Inference Protocol v2 (KServe / Triton REST) request and response bodies.

Request::

    {"id"?: str, "parameters"?: {"label"?: int | [int]},
     "inputs": [{"name", "shape", "datatype", "data": flat or nested list}], "outputs"?: [{"name"}]}

Response::

    {"model_name", "model_version", "id", "outputs": [{"name", "shape", "datatype", "data": flat}]}

Every problem is a :class:`RequestError` whose message names the field at fault (HTTP 400).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .spec import NUMPY_DTYPE, V2_DATATYPE, ModelSpec

Arrays = dict[str, np.ndarray]


class RequestError(ValueError):
    """A malformed request (HTTP 400)."""


@dataclass
class InferRequest:
    """A decoded, validated inference request."""

    id: str | None
    inputs: Arrays
    outputs: list[str] | None
    labels: list[int] | None
    rows: int


def parse_json(body: bytes) -> dict[str, Any]:
    """Parses the body as a JSON object."""
    try:
        obj = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise RequestError(f"body is not valid JSON: {str(e)[:200]}") from None
    except RecursionError:
        raise RequestError("body: JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise RequestError(f"body: expected a JSON object, got {type(obj).__name__}")
    return obj


def request_id(obj: Mapping[str, Any]) -> str | None:
    """The request's ``id`` (a string; numbers are accepted and stringified)."""
    rid = obj.get("id")
    if rid is None:
        return None
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        raise RequestError(f"id: expected a string, got {type(rid).__name__}")
    return str(rid)


def parse_labels(raw: Any, where: str) -> list[int] | None:
    """A label: one class index, a list of them (one per row), or a comma-separated string."""
    if raw is None or raw == "":
        return None
    try:
        if isinstance(raw, str):
            values = [int(x) for x in raw[:10_000].split(",")]
            if all(0 <= v < 2**31 for v in values):
                return values
            raise ValueError
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            values = [raw]
        elif isinstance(raw, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
            values = list(raw)
        else:
            values = None
        if values is not None and all(0 <= v < 2**31 for v in values):
            return values
    except ValueError:
        pass
    raise RequestError(f"{where}: expected a class index (0 .. 2^31-1) or a list of them, got {str(raw)[:100]}")


def _decode_tensor(i: int, t: Any, spec: ModelSpec) -> tuple[str, np.ndarray]:
    where = f"inputs[{i}]"
    if not isinstance(t, Mapping):
        raise RequestError(f"{where}: expected an object with name, shape, datatype, data")
    name = t.get("name")
    if not isinstance(name, str):
        raise RequestError(f"{where}.name: expected a string")
    ts = spec.input(name)
    if ts is None:
        raise RequestError(f"{where}.name: model '{spec.name}' has no input '{name}' (inputs: {', '.join(x.name for x in spec.inputs)})")
    shape = t.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise RequestError(f"{where}.shape: expected a list of non-negative ints, got {shape!r}")
    err = ts.shape_error(shape)
    if err:
        raise RequestError(f"{where}.shape: {err}")
    datatype = t.get("datatype")
    if datatype != ts.datatype:
        raise RequestError(f"{where}.datatype: input '{name}' is {ts.datatype}, got {datatype!r}")
    if "data" not in t:
        raise RequestError(f"{where}.data: missing")
    try:
        arr = np.asarray(t["data"], dtype=NUMPY_DTYPE[datatype])
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        raise RequestError(f"{where}.data: not a (nested) list of {datatype} numbers: {str(e)[:200]}") from None
    need = math.prod(shape)
    if arr.size != need:
        raise RequestError(f"{where}.data: has {arr.size} values, shape {shape} needs {need}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise RequestError(f"{where}.data: contains NaN or infinity")
    return name, np.ascontiguousarray(arr.reshape(shape))


def decode_request(obj: Mapping[str, Any], spec: ModelSpec, *, header_label: str | None = None) -> InferRequest:
    """Validates a parsed request against the model's inputs (names, shapes within the manifest's
    ranges, datatypes, data length)."""
    raw_inputs = obj.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise RequestError("inputs: expected a non-empty list of tensors")
    inputs: Arrays = {}
    for i, t in enumerate(raw_inputs):
        name, arr = _decode_tensor(i, t, spec)
        if name in inputs:
            raise RequestError(f"inputs[{i}].name: input '{name}' given twice")
        inputs[name] = arr
    missing = [t.name for t in spec.inputs if t.name not in inputs]
    if missing:
        raise RequestError(f"inputs: missing input(s) {', '.join(missing)}")
    rows = {a.shape[0] for a in inputs.values()}
    if len(rows) > 1 and spec.batchable:
        raise RequestError(f"inputs: batch sizes differ between inputs ({sorted(rows)})")
    outputs = None
    if obj.get("outputs") is not None:
        raw_out = obj["outputs"]
        if not isinstance(raw_out, list) or not all(isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in raw_out):
            raise RequestError("outputs: expected a list of {\"name\": ...}")
        known = {o.name for o in spec.outputs}
        outputs = [o["name"] for o in raw_out]
        unknown = [n for n in outputs if n not in known]
        if unknown:
            raise RequestError(f"outputs: model '{spec.name}' has no output {', '.join(unknown)} (outputs: {', '.join(sorted(known))})")
    params = obj.get("parameters")
    if params is not None and not isinstance(params, Mapping):
        raise RequestError("parameters: expected an object")
    labels = parse_labels(header_label, "x-modelship-label header") if header_label else None
    if labels is None and params:
        labels = parse_labels(params.get("label"), "parameters.label")
    return InferRequest(id=request_id(obj), inputs=inputs, outputs=outputs, labels=labels, rows=int(next(iter(rows))))


def encode_response(*, model: str, version: str, request_id: str | None, outputs: Mapping[str, np.ndarray], spec: ModelSpec, wanted: list[str] | None) -> dict[str, Any]:
    """Builds the response body (data flattened in row-major order)."""
    names = wanted or [o.name for o in spec.outputs]
    dtypes = {o.name: o.datatype for o in spec.outputs}
    out = []
    for n in names:
        a = np.asarray(outputs[n])
        datatype = dtypes.get(n) or V2_DATATYPE.get(a.dtype.name, "FP32")
        out.append({"name": n, "shape": list(a.shape), "datatype": datatype, "data": a.reshape(-1).tolist()})
    body: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": out}
    body["id"] = request_id if request_id is not None else ""
    return body
