"""The inference API: happy path, metadata, health, malformed requests, batching, shapes."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort
from serve_harness import metric_sum


def _ref(packages, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(packages["v1"] / "model.onnx"), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def test_infer_happy_path_matches_the_engine(make_server, packages):
    _, c = make_server()
    x = np.random.default_rng(0).normal(size=(2, 1, 8, 8)).astype(np.float32)
    status, headers, body = c.infer(x.tolist(), [2, 1, 8, 8], rid="req-1")  # nested data
    assert status == 200, body
    assert headers["x-modelship-variant"] == "stable"
    assert body["model_name"] == "digits" and body["model_version"] == "v1.0.0" and body["id"] == "req-1"
    out = body["outputs"][0]
    assert out["name"] == "logits" and out["shape"] == [2, 10] and out["datatype"] == "FP32"
    np.testing.assert_allclose(np.asarray(out["data"]).reshape(2, 10), _ref(packages, x), atol=1e-5)
    # flat data, requested outputs
    status, _, body2 = c.infer(x.reshape(-1).tolist(), [2, 1, 8, 8], outputs=[{"name": "logits"}])
    assert status == 200 and body2["outputs"][0]["data"] == out["data"]


def test_metadata_and_health(make_server):
    _, c = make_server()
    assert c.request("GET", "/v2/health/live")[0] == 200
    status, _, ready = c.request("GET", "/v2/health/ready")
    assert status == 200 and ready["ready"] and ready["variants"]["stable"]["fallback"] is False
    status, _, meta = c.request("GET", "/v2/models/digits")
    assert status == 200
    assert meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, -1, -1]}]
    assert meta["outputs"] == [{"name": "logits", "datatype": "FP32", "shape": [-1, 10]}]
    assert c.request("GET", "/v2/models/digits/ready")[2] == {"name": "digits", "ready": True}
    assert c.request("GET", "/v2/models/nope")[0] == 404
    status, _, body = c.infer([0.0] * 64, [1, 1, 8, 8], model="nope")
    assert status == 404 and "unknown model 'nope'" in body["error"]


def test_not_ready_without_stable(make_server):
    _, c = make_server(stable=None)
    assert c.request("GET", "/v2/health/ready")[0] == 503
    assert c.request("GET", "/v2/health/live")[0] == 200


BAD = [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"inputs": []}', "inputs"),
    (b'{"inputs": [{"name": "image", "shape": [1,1,8,8], "datatype": "FP32", "data": []}]}', "no input 'image'"),
    (b'{"inputs": [{"name": "input", "shape": [1,3,8,8], "datatype": "FP32", "data": []}]}', "dim 1 is 3, expected 1"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,8,99], "datatype": "FP32", "data": []}]}', "dim 3 is 99, expected width 4..16"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,8], "datatype": "FP32", "data": []}]}', "needs 4 dims"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,4,4], "datatype": "INT64", "data": [0]}]}', "input 'input' is FP32, got 'INT64'"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,4,4], "datatype": "FP32", "data": [1,2,3]}]}', "has 3 values, shape [1, 1, 4, 4] needs 16"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,4,4], "datatype": "FP32", "data": ["a"]}]}', "inputs[0].data"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,4,4], "datatype": "FP32"}]}', "inputs[0].data: missing"),
    (b'{"inputs": [{"name": "input", "shape": [1,1,4,4], "datatype": "FP32", "data": [' + b",".join([b"0"] * 16) + b']}], "outputs": [{"name": "probs"}]}', "no output probs"),
]


def test_malformed_requests_get_400_while_good_ones_get_200(make_server):
    _, c = make_server()
    good: list[int] = []
    stop = threading.Event()

    def good_loop() -> None:
        while not stop.is_set():
            good.append(c.infer([0.1] * 64, [1, 1, 8, 8])[0])

    threads = [threading.Thread(target=good_loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda b: c.request("POST", "/v2/models/digits/infer", raw=b[0]), BAD))
    finally:
        stop.set()
        for t in threads:
            t.join()
    for (_, expected), (status, _, body) in zip(BAD, results):
        assert status == 400, (expected, body)
        assert expected in body["error"], (expected, body)
    assert good and set(good) == {200}
    assert metric_sum(c.metrics(), "modelship_requests_total", code="400") == len(BAD)


def test_concurrent_requests_are_batched_and_shapes_never_mixed(make_server, packages):
    srv, c = make_server(batch_window_ms=40.0, max_batch_size=32)
    # Each batch takes 5 ms, so requests arriving meanwhile queue together whatever the machine's
    # load: on a busy 2-core host 24 clients could otherwise arrive further apart than digits runs
    # (50 us), and nothing would need batching.
    runner = srv.app.fleet.get("digits").get("stable").backend.runner
    run = runner.run
    runner.run = lambda feeds: (time.sleep(0.005), run(feeds))[1]
    rng = np.random.default_rng(1)
    shapes = [(8, 8), (12, 12), (8, 12)]
    xs = [rng.normal(size=(1, 1, *shapes[i % 3])).astype(np.float32) for i in range(24)]
    barrier = threading.Barrier(24)

    def one(x: np.ndarray):
        barrier.wait()
        return c.infer(x.reshape(-1).tolist(), list(x.shape))

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(one, xs))
    for x, (status, _, body) in zip(xs, results):
        assert status == 200, body
        np.testing.assert_allclose(np.asarray(body["outputs"][0]["data"]).reshape(1, 10), _ref(packages, x), atol=1e-5)
    m = c.metrics()
    batches = metric_sum(m, "modelship_batch_size_count", variant="stable")
    rows = metric_sum(m, "modelship_batch_size_sum", variant="stable")
    assert rows >= 24 and batches < rows, f"{rows} rows in {batches} batches: nothing was batched"


def test_live_accuracy_from_label_header_and_parameters(make_server, packages):
    _, c = make_server()
    x = np.zeros((1, 1, 8, 8), np.float32)
    pred = int(_ref(packages, x).argmax())
    assert c.infer(x.reshape(-1).tolist(), [1, 1, 8, 8], headers={"x-modelship-label": str(pred)})[0] == 200
    assert c.infer(x.reshape(-1).tolist(), [1, 1, 8, 8], parameters={"label": (pred + 1) % 10})[0] == 200
    assert c.infer(x.reshape(-1).tolist(), [1, 1, 8, 8], headers={"x-modelship-label": "cat"})[0] == 400
    m = c.metrics()
    assert metric_sum(m, "modelship_labelled_predictions_total", variant="stable") == 2
    assert metric_sum(m, "modelship_correct_predictions_total", variant="stable") == 1
