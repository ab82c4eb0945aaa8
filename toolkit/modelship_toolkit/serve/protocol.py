"""The Open Inference Protocol v2 (KServe / Triton REST) request and response bodies.

Request::

    {"id"?: str, "parameters"?: {"label"?: int | [int], "binary_data_output"?: bool},
     "inputs": [{"name", "shape", "datatype", "data": flat or nested list
                 | "parameters": {"binary_data_size": n}}],
     "outputs"?: [{"name", "parameters"?: {"binary_data"?: bool}}]}

Response::

    {"model_name", "model_version", "id", "outputs": [{"name", "shape", "datatype",
                                                       "data": flat | "parameters": {"binary_data_size": n}}]}

With the binary tensor data extension an input's bytes follow the JSON in the body (row-major,
little-endian, in the order of ``inputs``), and so do the outputs' bytes in the answer; the HTTP
header ``Inference-Header-Content-Length`` gives the JSON part's length. gRPC's
``raw_input_contents`` arrive the same way: :func:`decode_request` takes them as ``raw``.

Every problem is a :class:`RequestError` whose message names the field at fault (HTTP 400).
"""
from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from ..dtypes import NUMPY_OF_V2, V2_OF_MANIFEST
from .spec import ModelSpec

if TYPE_CHECKING:
    from .shm import SharedMemoryRegistry, ShmOutput, ShmTensor

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
    #: Outputs to answer as binary data after the JSON (binary tensor data extension).
    binary_outputs: frozenset[str] = frozenset()
    #: Outputs to answer as their top-k classes (classification extension): output name -> k.
    classification: Mapping[str, int] = field(default_factory=dict)
    #: Outputs to write into a shared memory region instead of the answer (shared memory extension).
    shm_outputs: Mapping[str, ShmOutput] = field(default_factory=dict)


def parse_json(body: bytes) -> dict[str, Any]:
    """Parses the body as a JSON object."""
    try:
        obj = orjson.loads(body)
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
    values: list[int] | None
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


def binary_size(t: Any, where: str) -> int | None:
    """The tensor's ``parameters.binary_data_size`` (None when its data is in the JSON)."""
    params = t.get("parameters") if isinstance(t, Mapping) else None
    if not isinstance(params, Mapping) or params.get("binary_data_size") is None:
        return None
    n = params["binary_data_size"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise RequestError(f"{where}.parameters.binary_data_size: expected a non-negative int, got {str(n)[:40]}")
    return n


def split_binary(obj: Mapping[str, Any], tail: bytes | memoryview) -> list[memoryview | None]:
    """Cuts the bytes after the JSON into each input's part (binary tensor data extension), in the
    order of ``inputs``; None for an input whose data is in the JSON."""
    raw_inputs = obj.get("inputs")
    if not isinstance(raw_inputs, list):
        raise RequestError("inputs: expected a non-empty list of tensors")
    view, off = memoryview(tail), 0
    parts: list[memoryview | None] = []
    for i, t in enumerate(raw_inputs):
        n = binary_size(t, f"inputs[{i}]")
        if n is None:
            parts.append(None)
            continue
        if off + n > len(view):
            raise RequestError(f"inputs[{i}].parameters.binary_data_size: {n} bytes wanted at offset {off}, the body has {len(view) - off} left")
        parts.append(view[off:off + n])
        off += n
    if off != len(view):
        raise RequestError(f"body: {len(view) - off} bytes after the inputs' binary data that no input's binary_data_size accounts for")
    return parts


def _tensor_data(where: str, t: Mapping[str, Any], datatype: str, raw: bytes | memoryview | None) -> np.ndarray:
    if raw is not None:
        dtype = np.dtype(NUMPY_OF_V2[datatype]).newbyteorder("<")
        if len(raw) % dtype.itemsize:
            raise RequestError(f"{where}: {len(raw)} bytes of binary data is not a whole number of {datatype} values")
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=False)
    if "data" not in t:
        raise RequestError(f"{where}.data: missing (give data, or parameters.binary_data_size with the bytes after the JSON)")
    try:
        return np.asarray(t["data"], dtype=NUMPY_OF_V2[datatype])
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        raise RequestError(f"{where}.data: not a (nested) list of {datatype} numbers: {str(e)[:200]}") from None


def _decode_tensor(i: int, t: Any, spec: ModelSpec, raw: bytes | memoryview | None = None,
                   shm: SharedMemoryRegistry | None = None, check_finite: bool = True) -> tuple[str, np.ndarray | ShmTensor]:
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
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):  # noqa: E721 - bool is not a dim
        raise RequestError(f"{where}.shape: expected a list of non-negative ints, got {shape!r}")
    err = ts.shape_error(shape)
    if err:
        raise RequestError(f"{where}.shape: {err}")
    datatype = t.get("datatype")
    if datatype != ts.datatype:
        raise RequestError(f"{where}.datatype: input '{name}' is {ts.datatype}, got {datatype!r}")
    params = t.get("parameters")
    if isinstance(params, Mapping) and "shared_memory_region" in params:
        if shm is None or raw is not None:
            raise RequestError(f"{where}.parameters.shared_memory_region: shared memory is off on this server" if shm is None
                               else f"{where}: give the data once: in shared memory or as binary data, not both")
        return name, shm.tensor(params, shape, np.dtype(NUMPY_OF_V2[datatype]), where)
    arr = _tensor_data(where, t, datatype, raw)
    need = math.prod(shape)
    if arr.size != need:
        raise RequestError(f"{where}.{'data' if raw is None else 'binary data'}: has {arr.size} values, shape {shape} needs {need}")
    if check_finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise RequestError(f"{where}.data: contains NaN or infinity")
    arr = arr.reshape(shape)
    return name, arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def decode_request(obj: Mapping[str, Any], spec: ModelSpec, *, header_label: str | None = None,
                   raw: Sequence[bytes | memoryview | None] | None = None, shm: SharedMemoryRegistry | None = None,
                   check_finite: bool = True) -> InferRequest:
    """Validates a parsed request against the model's inputs (names, shapes within the manifest's
    ranges, datatypes, data length, and, with ``check_finite``, no NaN or infinity in float data).
    ``raw[i]``, when given and not None, holds input ``i``'s bytes; with ``shm``, inputs and outputs
    may name shared memory regions (an input's bytes are read later, into its batch: its value is
    then a :class:`~.shm.ShmTensor`). A variant whose engine checks its batch on the GPU passes
    ``check_finite=False``: the CPU would read every byte once more for nothing."""
    raw_inputs = obj.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise RequestError("inputs: expected a non-empty list of tensors")
    if raw is not None and len(raw) not in (0, len(raw_inputs)):
        raise RequestError(f"raw_input_contents: {len(raw)} given for {len(raw_inputs)} inputs")
    inputs: dict[str, Any] = {}
    for i, t in enumerate(raw_inputs):
        name, arr = _decode_tensor(i, t, spec, raw[i] if raw else None, shm, check_finite)
        if name in inputs:
            raise RequestError(f"inputs[{i}].name: input '{name}' given twice")
        inputs[name] = arr
    missing = [t.name for t in spec.inputs if t.name not in inputs]
    if missing:
        raise RequestError(f"inputs: missing input(s) {', '.join(missing)}")
    rows = {a.shape[0] for a in inputs.values()}
    if len(rows) > 1 and spec.batchable:
        raise RequestError(f"inputs: batch sizes differ between inputs ({sorted(rows)})")
    params = obj.get("parameters")
    if params is not None and not isinstance(params, Mapping):
        raise RequestError("parameters: expected an object")
    binary_default = _flag(params, "binary_data_output", "parameters")
    outputs, binary, classification, shm_outputs = None, set(), {}, {}
    if obj.get("outputs") is not None:
        raw_out = obj["outputs"]
        if not isinstance(raw_out, list) or not all(isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in raw_out):
            raise RequestError("outputs: expected a list of {\"name\": ...}")
        known = {o.name for o in spec.outputs}
        outputs = [o["name"] for o in raw_out]
        unknown = [n for n in outputs if n not in known]
        if unknown:
            raise RequestError(f"outputs: model '{spec.name}' has no output {', '.join(unknown)} (outputs: {', '.join(sorted(known))})")
        for i, o in enumerate(raw_out):
            p = o.get("parameters")
            if p is not None and not isinstance(p, Mapping):
                raise RequestError(f"outputs[{i}].parameters: expected an object")
            wanted = _flag(p, "binary_data", f"outputs[{i}].parameters")
            if wanted or (wanted is None and binary_default):
                binary.add(o["name"])
            k = p.get("classification") if p else None
            if k is not None:
                if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                    raise RequestError(f"outputs[{i}].parameters.classification: expected a number of classes >= 1, got {str(k)[:40]}")
                if len(next(t for t in spec.outputs if t.name == o["name"]).dims) != 2:
                    raise RequestError(f"outputs[{i}].parameters.classification: output '{o['name']}' is not [batch, classes]")
                classification[o["name"]] = k
            if p and "shared_memory_region" in p:
                if shm is None:
                    raise RequestError(f"outputs[{i}].parameters.shared_memory_region: shared memory is off on this server")
                shm_outputs[o["name"]] = shm.output(p, f"outputs[{i}]")
    elif binary_default:
        binary = {o.name for o in spec.outputs}
    labels = parse_labels(header_label, "x-modelship-label header") if header_label else None
    if labels is None and params:
        labels = parse_labels(params.get("label"), "parameters.label")
    return InferRequest(id=request_id(obj), inputs=inputs, outputs=outputs, labels=labels, rows=int(next(iter(rows))),
                        binary_outputs=frozenset(binary), classification=classification, shm_outputs=shm_outputs)


def _flag(params: Mapping[str, Any] | None, key: str, where: str) -> bool | None:
    value = params.get(key) if params else None
    if value is not None and not isinstance(value, bool):
        raise RequestError(f"{where}.{key}: expected true or false, got {str(value)[:40]}")
    return value


def top_classes(scores: np.ndarray, k: int) -> np.ndarray:
    """The classification extension's answer: per row, the ``k`` best classes as ``"score:index"``
    strings, best first (shape ``[rows, min(k, classes)]``)."""
    k = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(scores, order, axis=1)
    return np.array([[f"{float(v):g}:{int(c)}" for v, c in zip(vs, cs)] for vs, cs in zip(picked, order)], dtype=object).reshape(scores.shape[0], k)


def output_tensor(name: str, value: np.ndarray, datatype: str, classes: int | None) -> tuple[str, np.ndarray]:
    """An output as answered: its datatype and array (``BYTES`` strings for a classification)."""
    if classes is not None:
        return "BYTES", top_classes(np.asarray(value), classes)
    return datatype, np.ascontiguousarray(value, dtype=NUMPY_OF_V2.get(datatype, np.asarray(value).dtype))


def tensor_bytes(datatype: str, a: np.ndarray) -> bytes:
    """The protocol's raw form of a tensor: little-endian row-major values; for ``BYTES``, each
    element as a 4-byte little-endian length and its UTF-8 bytes."""
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(b)) + b for b in (str(x).encode() for x in a.reshape(-1)))
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def write_shared(place: ShmOutput, data: bytes, where: str) -> dict[str, Any]:
    """Writes an output into the region its request named; returns the parameters that answer it."""
    place.write(data, where)
    return {"shared_memory_region": place.region.name, "shared_memory_byte_size": len(data), "shared_memory_offset": place.offset}


def encode_response(*, model: str, version: str, request_id: str | None, outputs: Mapping[str, np.ndarray], spec: ModelSpec,
                    wanted: list[str] | None, binary: frozenset[str] = frozenset(), classification: Mapping[str, int] | None = None,
                    shm_outputs: Mapping[str, ShmOutput] | None = None) -> tuple[bytes, list[bytes]]:
    """The answer's JSON (outputs' data flattened in row-major order) and, for outputs in
    ``binary``, their bytes to send after it, in order. Outputs in ``shm_outputs`` are written to
    their region and answered by reference (:func:`write_shared`)."""
    names = wanted or [o.name for o in spec.outputs]
    dtypes = {o.name: o.datatype for o in spec.outputs}
    out: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for n in names:
        raw = np.asarray(outputs[n])
        datatype, a = output_tensor(n, raw, dtypes.get(n) or V2_OF_MANIFEST.get(raw.dtype.name, "FP32"), (classification or {}).get(n))
        tensor: dict[str, Any] = {"name": n, "shape": list(a.shape), "datatype": datatype}
        if shm_outputs and n in shm_outputs:
            tensor["parameters"] = write_shared(shm_outputs[n], tensor_bytes(datatype, a), f"outputs[{len(out)}]")
        elif n in binary:
            data = tensor_bytes(datatype, a)
            tensor["parameters"] = {"binary_data_size": len(data)}
            chunks.append(data)
        else:
            tensor["data"] = a.reshape(-1).tolist() if datatype == "BYTES" else a.reshape(-1)
        out.append(tensor)
    body = {"model_name": model, "model_version": version, "id": request_id if request_id is not None else "", "outputs": out}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), chunks
