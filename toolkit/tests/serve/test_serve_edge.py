"""The runtime's HTTP edge under hostile and broken clients: every answer is JSON, client mistakes
are 4xx and never count as the variant's 5xx (a client could otherwise push a canary into
rollback), bodies and reads are bounded, and the server keeps answering."""
from __future__ import annotations

import json
import random
import socket
import time

import numpy as np
import pytest
from serve_harness import TOKEN, metric_sum

from modelship_toolkit.serve.package import load_package
from modelship_toolkit.serve.protocol import RequestError, decode_request

X = np.zeros((1, 1, 8, 8), dtype=np.float32).reshape(-1).tolist()
GOOD = {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": X}]}


def _server_5xx(c) -> float:
    text = c.metrics()
    return sum(metric_sum(text, "modelship_requests_total", code=str(code)) for code in (500, 502, 503, 504))


def _raw(port: int, payload: bytes, *, read: bool = True, timeout: float = 5.0) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        if not read:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
        return out
    finally:
        s.close()


def _status(resp: bytes) -> int:
    return int(resp.split(b" ", 2)[1])


CLIENT_MISTAKES = [
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000),
    ("deep JSON object", b'{"inputs":' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    ("400-digit integer", json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [int("9" * 400)] + X[1:]}]}).encode()),
    ("huge label", json.dumps({**GOOD, "parameters": {"label": int("9" * 400)}}).encode()),
    ("not JSON", b"\xff\xfe garbage"),
    ("a JSON array", b"[1,2,3]"),
    ("NaN", json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [float("nan")] * 64}]}).encode()),
    ("wrong shape", json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 8, 9], "datatype": "FP32", "data": X}]}).encode()),
    ("wrong datatype", json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "INT64", "data": X}]}).encode()),
    ("nested strings", json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [["a"] * 8] * 8}]}).encode()),
]


@pytest.mark.parametrize(("what", "body"), CLIENT_MISTAKES, ids=[w for w, _ in CLIENT_MISTAKES])
def test_client_mistakes_are_4xx_json_and_never_the_variants_5xx(make_server, what, body):
    _, c = make_server()
    status, headers, obj = c.request("POST", "/v2/models/digits/infer", raw=body)
    assert 400 <= status < 500, (what, status, obj)
    assert "json" in headers["content-type"] and isinstance(obj, dict) and obj["error"]
    assert _server_5xx(c) == 0
    assert c.request("POST", "/v2/models/digits/infer", GOOD)[0] == 200  # still serving


def test_generated_request_mutations_never_give_5xx(make_server):
    """Random mutations of a valid request: types swapped, fields dropped, sizes changed."""
    _, c = make_server()
    rng = random.Random(0)
    weird = [None, True, -1, 0, 1.5, 10**30, "", "x" * 1000, [], {}, [[[]]], {"a": {}}, [None] * 64, float("inf")]

    def mutate(obj):
        obj = json.loads(json.dumps(obj))
        t = obj["inputs"][0]
        key = rng.choice(["name", "shape", "datatype", "data", "inputs", "id", "outputs", "parameters"])
        value = rng.choice(weird)
        if key == "inputs":
            obj["inputs"] = value
        elif key in ("id", "outputs", "parameters"):
            obj[key] = value
        elif rng.random() < 0.3:
            del t[key]
        else:
            t[key] = value
        return obj

    cases = 0
    for _ in range(150):
        body = json.dumps(mutate(GOOD), allow_nan=True).encode()
        status = c.request("POST", "/v2/models/digits/infer", raw=body)[0]
        assert status < 500 or status == 200, body[:200]
        cases += 1
    assert cases == 150 and _server_5xx(c) == 0


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/v2/models/digits/infer", "/admin/state", "/metrics", "/nope"])
def test_every_method_and_path_answers_json(make_server, method, path):
    _, c = make_server()
    status, headers, obj = c.request(method, path, {"x": 1}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 405 and "json" in headers["content-type"] and "not allowed" in obj["error"]
    assert headers["allow"] == "GET, HEAD, POST"


def test_protocol_errors_answer_json(make_server):
    srv, _ = make_server()
    resp = _raw(srv.port, b"THIS IS NOT HTTP\r\n\r\n")
    assert _status(resp) == 400 and b"application/json" in resp and b'"error"' in resp


@pytest.mark.parametrize(("length", "code"), [("-5", 400), ("abc", 400), (str(1 << 40), 413)])
def test_bad_content_lengths_are_refused_before_reading(make_server, length, code):
    srv, c = make_server()
    resp = _raw(srv.port, f"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    assert _status(resp) == code
    assert c.request("GET", "/v2/health/live")[0] == 200


def test_a_body_over_the_limit_is_413_before_any_of_it_is_read(make_server):
    srv, c = make_server(max_body_bytes=1 << 20)
    # Headers only: the answer comes before the client sends a byte of the 2 MiB body.
    resp = _raw(srv.port, f"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: {2 << 20}\r\n\r\n".encode())
    assert _status(resp) == 413 and b"over the limit" in resp
    assert c.request("POST", "/v2/models/digits/infer", GOOD)[0] == 200


def test_slow_and_idle_clients_are_cut_off_and_do_not_hold_the_server(make_server):
    srv, c = make_server(read_timeout_s=0.5, body_timeout_s=1.0)
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(6)]
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\"")
    t0 = time.perf_counter()
    assert c.request("POST", "/v2/models/digits/infer", GOOD)[0] == 200  # answered meanwhile
    assert time.perf_counter() - t0 < 0.5
    time.sleep(1.2)
    for s in [*idle, half]:
        s.settimeout(2)
        data = s.recv(65536)  # the server closed them (or answered the half body with an error, then closed)
        assert data == b"" or data.startswith(b"HTTP/1.1 4")
        s.close()
    # A trickling body (a byte at a time, each within the read timeout) hits the body deadline.
    t = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    t.sendall(b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
    started, answer = time.perf_counter(), b""
    try:
        for _ in range(40):
            t.sendall(b" ")
            time.sleep(0.1)
    except OSError:
        pass
    try:
        answer = t.recv(65536)
    except OSError:
        pass
    t.close()
    assert answer.startswith(b"HTTP/1.1 408") or answer == b""
    assert time.perf_counter() - started < 5


def test_connections_beyond_the_limit_get_503_and_the_server_recovers(make_server):
    srv, c = make_server(max_connections=3, read_timeout_s=1.0)
    held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    time.sleep(0.1)
    resp = _raw(srv.port, b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _status(resp) == 503 and b"too many connections" in resp
    for s in held:
        s.close()
    time.sleep(1.5)
    assert c.request("GET", "/v2/health/live")[0] == 200


def test_a_refused_rollback_unloads_nothing(make_server, packages):
    _, c = make_server()
    assert c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})[0] == 200
    status, body = c.admin("POST", "rollback", {"toPrevious": True})
    assert status == 409 and "no previous stable" in body["error"]
    state = c.admin("GET", "state")[1]
    assert state["variants"]["candidate"]["version"] == "v2.0.0"


def test_nan_is_refused_on_the_cpu_unless_the_engine_checks_on_the_gpu(packages):
    spec = load_package(str(packages["v1"])).spec
    body = {"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [1.0] * 63 + [float("inf")]}]}
    with pytest.raises(RequestError, match=r"inputs\[0\].data: contains NaN or infinity"):
        decode_request(body, spec)
    req = decode_request(body, spec, check_finite=False)  # TensorRT's run_parts refuses it on the GPU instead
    assert not np.isfinite(req.inputs["input"]).all()
