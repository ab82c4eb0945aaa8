"""The HTTP wire details a client library relies on: the binary tensor data extension's layout,
gzip/deflate bodies both ways, and their limits."""
from __future__ import annotations

import gzip
import json
import zlib

import numpy as np
import onnxruntime as ort
from serve_harness import metric_sum

X = np.random.default_rng(1).normal(size=(2, 1, 8, 8)).astype(np.float32)


def _binary_body(x: np.ndarray, *, size: int | None = None, extra: bytes = b"", outputs: list | None = None) -> tuple[bytes, dict[str, str]]:
    raw = x.tobytes()
    head = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32", "parameters": {"binary_data_size": len(raw) if size is None else size}}]}
    if outputs is not None:
        head["outputs"] = outputs
    js = json.dumps(head).encode()
    return js + raw + extra, {"Inference-Header-Content-Length": str(len(js)), "Content-Type": "application/octet-stream"}


def test_binary_in_binary_out_layout(make_server, packages):
    _, c = make_server()
    body, headers = _binary_body(X, outputs=[{"name": "logits", "parameters": {"binary_data": True}}])
    status, h, raw = c.request("POST", "/v2/models/digits/infer", raw=body, headers=headers)
    assert status == 200 and h["content-type"] == "application/octet-stream"
    n = int(h["inference-header-content-length"])
    head = json.loads(raw[:n])
    out = head["outputs"][0]
    assert out["parameters"]["binary_data_size"] == 2 * 10 * 4 and "data" not in out
    got = np.frombuffer(raw[n:], dtype="<f4").reshape(out["shape"])
    ref = ort.InferenceSession(str(packages["v1"] / "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"input": X})[0]
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_binary_layout_mistakes_are_400_naming_the_field(make_server):
    _, c = make_server()
    cases = [
        (_binary_body(X, size=10_000), "binary_data_size: 10000 bytes wanted"),
        (_binary_body(X, extra=b"xx"), "2 bytes after the inputs' binary data"),
        (_binary_body(X, size=7, extra=b""), "binary_data_size"),
        ((b"{}", {"Inference-Header-Content-Length": "99"}), "inference-header-content-length"),
        ((b"{}", {"Inference-Header-Content-Length": "-1"}), "inference-header-content-length"),
    ]
    for (body, headers), expected in cases:
        status, _, obj = c.request("POST", "/v2/models/digits/infer", raw=body, headers=headers)
        assert status == 400 and expected in obj["error"], (expected, obj)
    assert metric_sum(c.metrics(), "modelship_requests_total", code="400") == len(cases)


def test_gzip_and_deflate_bodies_both_ways(make_server):
    _, c = make_server()
    x = np.random.default_rng(2).normal(size=(30, 1, 8, 8)).astype(np.float32)
    plain = json.dumps({"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.reshape(-1).tolist()}]}).encode()
    expected = c.request("POST", "/v2/models/digits/infer", raw=plain)[2]["outputs"][0]["data"]
    for encoding, packed, unpack in (("gzip", gzip.compress(plain), gzip.decompress), ("deflate", zlib.compress(plain), zlib.decompress)):
        status, h, raw = c.request("POST", "/v2/models/digits/infer", raw=packed,
                                   headers={"Content-Encoding": encoding, "Accept-Encoding": encoding})
        assert status == 200 and h["content-encoding"] == encoding
        body = json.loads(unpack(raw))
        assert body["outputs"][0]["data"] == expected
    # Small answers are not worth compressing; a client that accepts nothing gets plain JSON.
    status, h, _ = c.infer([0.1] * 64, [1, 1, 8, 8], headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in h


def test_compressed_body_limits(make_server):
    _, c = make_server(max_body_bytes=1 << 20)
    bomb = gzip.compress(b"{" + b" " * (4 << 20) + b"}")  # 4 MiB of JSON whitespace in a few KiB
    assert len(bomb) < 64 << 10
    status, _, obj = c.request("POST", "/v2/models/digits/infer", raw=bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413 and "inflates to over the limit" in obj["error"]
    status, _, obj = c.request("POST", "/v2/models/digits/infer", raw=b"\x1f\x8b garbage", headers={"Content-Encoding": "gzip"})
    assert status == 400 and "does not inflate" in obj["error"]
    status, _, obj = c.request("POST", "/v2/models/digits/infer", raw=b"{}", headers={"Content-Encoding": "br"})
    assert status == 415 and "Content-Encoding" in obj["error"]
    assert c.infer([0.1] * 64, [1, 1, 8, 8])[0] == 200
