"""Conformance with a client no one here wrote: NVIDIA's tritonclient drives the runtime over
HTTP (JSON and the binary tensor data extension, gzip/deflate bodies) and gRPC, the way a
production caller of an Open Inference Protocol server would."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from serve_harness import TOKEN
from tritonclient.utils import InferenceServerException


def _reference(package, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(package / "model.onnx"), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


@pytest.fixture
def served(make_server, packages):
    """One runtime serving digits and a second model, over HTTP and gRPC."""
    srv, c = make_server(model_name=None, grpc=True)
    status, body = c.admin("POST", "load", {"variant": "stable", "package": str(packages["other-v1"])})
    assert status == 200, body
    http = httpclient.InferenceServerClient(f"127.0.0.1:{srv.port}", concurrency=4)
    grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{srv.grpc_port}")
    yield srv, http, grpc
    http.close()
    grpc.close()


def _x(rows: int = 3, side: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, 1, side, side)).astype(np.float32)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("compression", [None, "gzip", "deflate"])
def test_http_infer_in_every_encoding(served, packages, binary, compression):
    _, http, _ = served
    x = _x(rows=40)  # 40x64 floats: the answer is long enough to be compressed back
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    out = httpclient.InferRequestedOutput("logits", binary_data=binary)
    result = http.infer("digits", [inp], outputs=[out], request_id="tc-1",
                        request_compression_algorithm=compression, response_compression_algorithm=compression)
    np.testing.assert_allclose(result.as_numpy("logits"), _reference(packages["v1"], x), atol=1e-5)
    response = result.get_response()
    assert response["model_name"] == "digits" and response["model_version"] == "v1.0.0" and response["id"] == "tc-1"
    assert ("binary_data_size" in response["outputs"][0].get("parameters", {})) is binary


def test_http_without_requested_outputs_gets_every_output_in_binary(served, packages):
    _, http, _ = served
    x = _x(rows=2, side=12)  # a dynamic height/width inside the manifest's range
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)  # tritonclient's default: binary input, binary_data_output for outputs
    result = http.infer("digits", [inp])
    np.testing.assert_allclose(result.as_numpy("logits"), _reference(packages["v1"], x), atol=1e-5)


def test_http_health_and_metadata(served):
    _, http, _ = served
    assert http.is_server_live() and http.is_server_ready()
    assert http.is_model_ready("digits") and http.is_model_ready("other") and not http.is_model_ready("digits", "v9")
    meta = http.get_server_metadata()
    assert meta["name"] == "modelship" and "binary_tensor_data" in meta["extensions"]
    model = http.get_model_metadata("digits")
    assert model["inputs"][0] == {"name": "input", "datatype": "FP32", "shape": [-1, 1, -1, -1]}
    assert model["outputs"][0]["name"] == "logits" and model["versions"] == ["v1.0.0"]


def test_http_errors_reach_the_client_with_the_field_named(served):
    _, http, _ = served
    bad = httpclient.InferInput("input", [1, 1, 8, 99], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 1, 8, 99), np.float32))
    with pytest.raises(InferenceServerException, match="dim 3 is 99"):
        http.infer("digits", [bad])
    ok = httpclient.InferInput("input", [1, 1, 8, 8], "FP32")
    ok.set_data_from_numpy(_x(rows=1))
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        http.infer("nope", [ok])


def test_grpc_infer_metadata_and_two_models(served, packages):
    _, _, grpc = served
    assert grpc.is_server_live() and grpc.is_server_ready() and grpc.is_model_ready("other")
    meta = grpc.get_model_metadata("digits", as_json=True)
    assert meta["inputs"][0]["name"] == "input" and meta["inputs"][0]["shape"] == ["-1", "1", "-1", "-1"]
    assert "binary_tensor_data" in grpc.get_server_metadata(as_json=True)["extensions"]
    for model, package in (("digits", "v1"), ("other", "other-v1")):
        x = _x(rows=5, seed=3)
        inp = grpcclient.InferInput("input", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        result = grpc.infer(model, [inp], outputs=[grpcclient.InferRequestedOutput("logits")], request_id=f"g-{model}")
        np.testing.assert_allclose(result.as_numpy("logits"), _reference(packages[package], x), atol=1e-5)
        assert result.get_response().model_name == model and result.get_response().id == f"g-{model}"


def test_grpc_errors_are_statuses_naming_the_field(served):
    _, _, grpc = served
    bad = grpcclient.InferInput("input", [1, 1, 8, 99], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 1, 8, 99), np.float32))
    with pytest.raises(InferenceServerException, match="dim 3 is 99") as e:
        grpc.infer("digits", [bad])
    assert e.value.status() == "StatusCode.INVALID_ARGUMENT"
    ok = grpcclient.InferInput("input", [1, 1, 8, 8], "FP32")
    ok.set_data_from_numpy(_x(rows=1))
    with pytest.raises(InferenceServerException, match="unknown model") as e:
        grpc.infer("nope", [ok])
    assert e.value.status() == "StatusCode.NOT_FOUND"


def test_admin_is_not_reachable_through_the_inference_protocols(served):
    srv, http, _ = served
    with pytest.raises(InferenceServerException):
        http.load_model("digits")  # the repository extension is not served: no package loads this way
    assert TOKEN not in str(srv.app.fleet.states())


def test_the_compiled_protocol_is_the_proto_file(tmp_path):
    """proto/inference.binpb is what `make proto` makes of proto/inference.proto today."""
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    import modelship_toolkit.serve.grpc_server as g

    proto_dir = g._DESCRIPTOR_SET.parent
    out = tmp_path / "fresh.binpb"
    assert protoc.main(["protoc", f"-I{proto_dir}", f"--descriptor_set_out={out}", str(proto_dir / "inference.proto")]) == 0
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    committed = descriptor_pb2.FileDescriptorSet.FromString(g._DESCRIPTOR_SET.read_bytes())
    assert fresh == committed, "run `make proto` after editing inference.proto"


def test_grpc_deadlines_answer_deadline_exceeded_and_the_server_stays_up(make_server):
    srv, c = make_server(stable="slow", grpc=True, request_timeout_ms=100.0)  # 0.3 s per forward
    grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{srv.grpc_port}")
    try:
        inp = grpcclient.InferInput("input", [1, 1, 8, 8], "FP32")
        inp.set_data_from_numpy(_x(rows=1))
        with pytest.raises(InferenceServerException, match="timeout: no answer within 100 ms") as e:
            grpc.infer("digits", [inp])
        assert e.value.status() == "StatusCode.DEADLINE_EXCEEDED"
        assert grpc.is_server_live() and c.request("GET", "/v2/health/live")[0] == 200
    finally:
        grpc.close()


def _top3(ref: np.ndarray) -> list[list[int]]:
    return np.argsort(-ref, axis=1, kind="stable")[:, :3].tolist()


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_http_classification_extension(served, packages, binary):
    _, http, _ = served
    x = _x(rows=4, seed=5)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    result = http.infer("digits", [inp], outputs=[httpclient.InferRequestedOutput("logits", binary_data=binary, class_count=3)])
    got = result.as_numpy("logits")
    assert got.shape == (4, 3)
    classes = [[int((v.decode() if isinstance(v, bytes) else v).split(":")[1]) for v in row] for row in got]
    assert classes == _top3(_reference(packages["v1"], x))


def test_grpc_classification_extension_and_its_field_errors(served, packages):
    _, _, grpc = served
    x = _x(rows=2, seed=6)
    inp = grpcclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    result = grpc.infer("digits", [inp], outputs=[grpcclient.InferRequestedOutput("logits", class_count=3)])
    got = result.as_numpy("logits")
    assert [[int(v.decode().split(":")[1]) for v in row] for row in got] == _top3(_reference(packages["v1"], x))
    with pytest.raises(InferenceServerException, match=r"outputs\[0\].parameters.classification: expected a number of classes >= 1"):
        grpc.infer("digits", [inp], outputs=[grpcclient.InferRequestedOutput("logits", class_count=-1)])
