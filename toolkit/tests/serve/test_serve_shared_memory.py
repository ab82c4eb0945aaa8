"""The system shared memory extension, driven by tritonclient's own shared-memory utilities
(``tritonclient.utils.shared_memory``) over HTTP and gRPC: register, infer with inputs and outputs
in a region, status, unregister — and what a client that misbehaves gets."""
from __future__ import annotations

import os
import uuid

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

ROWS = 4
IN_BYTES = ROWS * 64 * 4
OUT_BYTES = ROWS * 10 * 4


def _reference(package, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(package / "model.onnx"), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


@pytest.fixture
def region():
    """A POSIX shared memory object holding an input batch and room for its logits."""
    key = f"/modelship-test-{uuid.uuid4().hex[:8]}"
    handle = shm.create_shared_memory_region("r-data", key, IN_BYTES + OUT_BYTES)
    x = np.random.default_rng(3).normal(size=(ROWS, 1, 8, 8)).astype(np.float32)
    shm.set_shared_memory_region(handle, [x])
    yield key, handle, x
    shm.destroy_shared_memory_region(handle)


@pytest.fixture
def clients(make_server):
    srv, c = make_server(grpc=True, shared_memory=True)
    http = httpclient.InferenceServerClient(f"127.0.0.1:{srv.port}")
    grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{srv.grpc_port}")
    yield srv, c, http, grpc
    http.close()
    grpc.close()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_inputs_and_outputs_in_shared_memory(clients, region, packages, protocol):
    srv, _, http, grpc = clients
    key, handle, x = region
    client, lib = (http, httpclient) if protocol == "http" else (grpc, grpcclient)
    client.register_system_shared_memory("r-data", key, IN_BYTES + OUT_BYTES)
    inp = lib.InferInput("input", list(x.shape), "FP32")
    inp.set_shared_memory("r-data", IN_BYTES)
    out = lib.InferRequestedOutput("logits")
    out.set_shared_memory("r-data", OUT_BYTES, offset=IN_BYTES)
    result = client.infer("digits", [inp], outputs=[out])
    written = shm.get_contents_as_numpy(handle, np.float32, [ROWS, 10], offset=IN_BYTES)
    np.testing.assert_allclose(written, _reference(packages["v1"], x), atol=1e-5)
    answered = result.get_output("logits")
    params = answered["parameters"] if protocol == "http" else {k: v.WhichOneof("parameter_choice") and getattr(v, v.WhichOneof("parameter_choice"))
                                                                 for k, v in answered.parameters.items()}
    assert params["shared_memory_region"] == "r-data" and params["shared_memory_byte_size"] == OUT_BYTES

    status = client.get_system_shared_memory_status()
    names = [r["name"] for r in status] if protocol == "http" else list(status.regions)
    assert names == ["r-data"]
    client.unregister_system_shared_memory("r-data")
    with pytest.raises(InferenceServerException, match="no region 'r-data' is registered"):
        client.infer("digits", [inp])


def test_shared_memory_is_off_unless_asked_for(make_server, region):
    srv, c = make_server()
    key, _, x = region
    http = httpclient.InferenceServerClient(f"127.0.0.1:{srv.port}")
    try:
        with pytest.raises(InferenceServerException, match="--shared-memory system"):
            http.register_system_shared_memory("r-data", key, IN_BYTES)
        inp = httpclient.InferInput("input", list(x.shape), "FP32")
        inp.set_shared_memory("r-data", IN_BYTES)
        with pytest.raises(InferenceServerException, match="shared memory is off"):
            http.infer("digits", [inp])
        assert "system_shared_memory" not in http.get_server_metadata()["extensions"]
    finally:
        http.close()


@pytest.mark.parametrize(("body", "message"), [
    ({"key": "../etc/passwd", "byte_size": 8}, "key: expected a shared memory object's name"),
    ({"key": "..", "byte_size": 8}, "key: expected a shared memory object's name"),
    ({"key": "modelship-no-such-object", "byte_size": 8}, "key: cannot open shared memory object"),
    ({"key": "KEY", "byte_size": 10 ** 9}, "byte_size: shared memory object 'KEY' has"),
    ({"key": "KEY", "byte_size": -1}, "byte_size: expected a non-negative integer"),
    ({"key": "KEY", "byte_size": 0}, "byte_size: a region must hold at least one byte"),
])
def test_bad_registrations_name_the_field(clients, region, body, message):
    _, c, _, _ = clients
    key = region[0].removeprefix("/")
    body = {k: (key if v == "KEY" else v) for k, v in body.items()}
    status, _, reply = c.request("POST", "/v2/systemsharedmemory/region/r1/register", body)
    assert status == 400 and message.replace("KEY", key) in reply["error"]
    assert c.request("GET", "/v2/systemsharedmemory/status")[2] == []


def test_bad_references_and_a_shrunk_object_fail_their_request_only(clients, region):
    srv, c, http, _ = clients
    key, handle, x = region
    http.register_system_shared_memory("r-data", key, IN_BYTES + OUT_BYTES)
    with pytest.raises(InferenceServerException, match="already registered"):
        http.register_system_shared_memory("r-data", key, IN_BYTES)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_shared_memory("r-data", IN_BYTES - 4)
    with pytest.raises(InferenceServerException, match=r"shared_memory_byte_size: shape \[4, 1, 8, 8\] of float32 is 1024 bytes, got 1020"):
        http.infer("digits", [inp])
    inp.set_shared_memory("r-data", IN_BYTES, offset=OUT_BYTES + 4)
    with pytest.raises(InferenceServerException, match="past the end of region 'r-data'"):
        http.infer("digits", [inp])
    small = httpclient.InferRequestedOutput("logits")
    small.set_shared_memory("r-data", 8, offset=IN_BYTES)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_shared_memory("r-data", IN_BYTES)
    with pytest.raises(InferenceServerException, match="outputs\\[0\\].parameters.shared_memory_byte_size: the output has 160 bytes, 8 were given"):
        http.infer("digits", [inp], outputs=[small])
    os.truncate(f"/dev/shm/{key.removeprefix('/')}", 16)  # the client shrinks the object under the server
    with pytest.raises(InferenceServerException, match="ends after 16 of the 1024 bytes"):
        http.infer("digits", [inp])
    ok = httpclient.InferInput("input", list(x.shape), "FP32")
    ok.set_data_from_numpy(x)
    assert http.infer("digits", [ok]).as_numpy("logits").shape == (ROWS, 10)
    counted = [line for line in c.metrics().splitlines() if line.startswith("modelship_requests_total{")]
    # The size, the bounds and the shrunk object are the client's 400s; the output that did not fit
    # its place was inferred (200 for the variant) and then refused to the client.
    assert any('code="400"' in line and line.endswith(" 3.0") for line in counted), counted
    assert not any('code="500"' in line for line in counted), counted


def test_nan_in_shared_memory_is_a_400(clients, region):
    _, _, http, _ = clients
    key, handle, x = region
    bad = x.copy()
    bad[1, 0, 2, 2] = np.nan
    shm.set_shared_memory_region(handle, [bad])
    http.register_system_shared_memory("r-data", key, IN_BYTES + OUT_BYTES)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_shared_memory("r-data", IN_BYTES)
    with pytest.raises(InferenceServerException, match=r"inputs\[0\]: contains NaN or infinity"):
        http.infer("digits", [inp])


def test_cuda_shared_memory_says_it_is_not_served(clients):
    _, c, _, _ = clients
    status, _, reply = c.request("GET", "/v2/cudasharedmemory/status")
    assert status == 501 and "use system shared memory" in reply["error"]


def test_stopping_the_server_lets_go_of_every_region(region):
    from modelship_toolkit.serve.config import ServeConfig
    from modelship_toolkit.serve.server import create_server

    key = region[0]
    srv = create_server(ServeConfig(shared_memory=True), port=0)
    srv.start_background()
    srv.app.plane.shared_memory("register", "r-data", {"key": key, "byte_size": IN_BYTES})
    assert [r["name"] for r in srv.app.plane.shared_memory("status", None)] == ["r-data"]
    srv.stop()
    assert srv.app.plane.shared_memory("status", None) == []
