"""``--workers N``: one runtime as N processes on the same ports. A client's calls land on any
worker (each test call opens its own connection, so the kernel spreads them), yet what one call
changes — loaded variants, weights, shared memory regions — holds for every later call, /metrics
counts every worker's requests, and a worker's death stops the runtime."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.utils.shared_memory as shm
from serve_harness import TOKEN, Client, metric_sum

from modelship_toolkit.serve.cluster import Cluster, replicated
from modelship_toolkit.serve.metrics import ServeMetrics, merge_expositions

TOOLKIT = Path(__file__).resolve().parents[2]
#: Calls per check: with connections spread over two workers, all landing on one is a 2^-29 chance.
CALLS = 30


class Runtime:
    """``python -m modelship_toolkit.serve --workers ...`` in its own process."""

    def __init__(self, *args: str, token_file: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--admin-token-file", str(token_file),
             "--batch-window-ms", "1", "--log-level", "WARNING", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(TOOLKIT)})
        line = self.proc.stdout.readline()
        self.event = json.loads(line) if line else None

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN)
    return path


@pytest.fixture
def runtime(packages, token_file):
    started = []

    def start(*args: str) -> Runtime:
        rt = Runtime(*args, token_file=token_file)
        started.append(rt)
        assert rt.event is not None, rt.proc.stderr.read()
        return rt

    yield start
    for rt in started:
        rt.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_state_changes_reach_every_worker(runtime, packages):
    rt = runtime("--workers", "2", "--stable-package", str(packages["v1"]))
    assert rt.event["workers"] == 2 and len(set(rt.event["pids"])) == 2 and rt.event["models"] == ["digits"]
    c = Client(rt.event["port"])
    x = np.random.default_rng(0).normal(size=(1, 1, 8, 8)).astype(np.float32)

    for _ in range(CALLS):
        status, _, body = c.infer(x.reshape(-1).tolist(), [1, 1, 8, 8])
        assert status == 200, body
    assert metric_sum(c.metrics(), "modelship_requests_total", code="200") == CALLS  # both workers' counts

    assert c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v3"])})[0] == 200
    assert c.admin("POST", "weights", {"candidate": 100})[0] == 200
    for _ in range(CALLS):
        status, headers, body = c.infer(x.reshape(-1).tolist(), [1, 1, 8, 8])
        assert status == 200 and headers["x-modelship-variant"] == "candidate", body
    for _ in range(CALLS):
        status, state = c.admin("GET", "state")
        assert status == 200 and state["variants"]["candidate"]["version"] == "v3.0.0" and state["weights"]["candidate"] == 100
    text = c.metrics()
    assert metric_sum(text, "modelship_requests_total", variant="candidate") == CALLS
    assert metric_sum(text, "modelship_candidate_weight_percent") == 100  # the same in each worker: reported once

    assert c.admin("POST", "promote")[0] == 200
    for _ in range(10):
        assert c.admin("GET", "state")[1]["variants"]["stable"]["version"] == "v3.0.0"


def test_a_client_cannot_pose_as_a_peer(runtime, packages):
    rt = runtime("--workers", "2", "--stable-package", str(packages["v1"]))
    c = Client(rt.event["port"])
    forged = {"Authorization": f"Bearer {TOKEN}", "x-modelship-peer": "guess", "x-modelship-peer-op": "apply"}
    status, _, _ = c.request("POST", "/admin/weights", {"candidate": 0, "shadow": 40}, forged)
    assert status == 200
    for _ in range(CALLS):  # applied everywhere, not only where it landed
        assert c.admin("GET", "state")[1]["weights"]["shadow"] == 40
    # Authorization is still each worker's to check.
    for token in ("wrong", None):
        for _ in range(4):
            assert c.admin("POST", "weights", {"candidate": 10}, token=token)[0] in (401, 403)
    assert c.admin("GET", "state")[1]["weights"]["candidate"] == 0


def test_shared_memory_regions_reach_every_worker(runtime, packages):
    rt = runtime("--workers", "2", "--stable-package", str(packages["v1"]), "--shared-memory", "system", "--grpc-port", "0")
    c = Client(rt.event["port"])
    x = np.random.default_rng(1).normal(size=(2, 1, 8, 8)).astype(np.float32)
    key = f"/modelship-test-{uuid.uuid4().hex[:8]}"
    handle = shm.create_shared_memory_region("w-data", key, x.nbytes)
    shm.set_shared_memory_region(handle, [x])
    grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{rt.event['grpcPort']}")
    body = {"inputs": [{"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32",
                        "parameters": {"shared_memory_region": "w-data", "shared_memory_byte_size": x.nbytes}}]}
    try:
        grpc.register_system_shared_memory("w-data", key, x.nbytes)  # through gRPC: replicated all the same
        for _ in range(CALLS):
            status, _, answer = c.request("POST", "/v2/models/digits/infer", body)
            assert status == 200, answer
        status, _, _ = c.request("POST", "/v2/systemsharedmemory/region/w-data/unregister", {})
        assert status == 200
        for _ in range(CALLS // 3):
            status, _, answer = c.request("POST", "/v2/models/digits/infer", body)
            assert status == 400 and "w-data" in answer["error"]
        with pytest.raises(Exception, match="already registered"):
            grpc.register_system_shared_memory("w-data", key, x.nbytes)
            grpc.register_system_shared_memory("w-data", key, x.nbytes)
    finally:
        grpc.close()
        shm.destroy_shared_memory_region(handle)


def test_a_dead_worker_stops_the_runtime(runtime, packages):
    rt = runtime("--workers", "2", "--stable-package", str(packages["v1"]))
    first, second = rt.event["pids"]
    os.kill(second, signal.SIGKILL)
    assert rt.proc.wait(30) == 1
    assert "worker 1 of 2 exited" in rt.proc.stderr.read()
    deadline = time.monotonic() + 30
    while _alive(first) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(first)


def test_sigterm_stops_every_worker(runtime, packages):
    rt = runtime("--workers", "3", "--stable-package", str(packages["v1"]))
    pids = rt.event["pids"]
    assert rt.stop() == 0
    assert not any(_alive(p) for p in pids)


def test_a_worker_that_cannot_start_fails_the_runtime(packages, token_file, tmp_path):
    rt = Runtime("--workers", "2", "--stable-package", str(tmp_path / "nowhere"), token_file=token_file)
    assert rt.event is None
    assert rt.proc.wait(60) == 2
    err = rt.proc.stderr.read()
    assert "cannot serve package" in err and "did not start" in err


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_bad_workers_flag_is_named(value):
    out = subprocess.run([sys.executable, "-m", "modelship_toolkit.serve", "--workers", value], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(TOOLKIT)}, timeout=60)
    assert out.returncode == 2 and "--workers" in out.stderr


def test_replicated_calls_are_the_ones_that_change_state():
    assert replicated("POST", "/admin/load") and replicated("POST", "/admin/weights")
    assert replicated("POST", "/v2/systemsharedmemory/region/a/register") and replicated("POST", "/v2/systemsharedmemory/unregister")
    assert not replicated("GET", "/admin/state") and not replicated("POST", "/admin/fits")
    assert not replicated("POST", "/v2/models/m/infer") and not replicated("GET", "/v2/systemsharedmemory/status")


def test_peer_calls_need_the_secret():
    cluster = Cluster(1, 2)
    assert cluster.peer_op("anything", "apply") is None  # no secret yet: nobody is a peer
    cluster.set_peers([1000, 1001], "s3")
    assert cluster.peer_op("s3", "apply") == "apply" and cluster.peer_op("s3", "lead") == "lead"
    assert cluster.peer_op("s4", "apply") is None and cluster.peer_op("s3", "other") is None and cluster.peer_op(None, "apply") is None
    with pytest.raises(ValueError, match="2 peer ports"):
        cluster.set_peers([1000], "s3")


def test_merged_metrics_sum_counts_and_report_shared_gauges_once():
    def worker(depth: int, requests: int) -> bytes:
        m = ServeMetrics(lambda: [{"model": "m", "variants": {"stable": {"version": "v1", "queueDepth": depth, "backend": "onnxruntime",
                                                                          "fallback": False}}, "weights": {"candidate": 5, "shadow": 0}}])
        for _ in range(requests):
            m.requests.labels("m", "stable", "v1", "200").inc()
            m.latency.labels("m", "stable", "v1").observe(0.003)
        return m.render()

    text = merge_expositions([worker(2, 3), worker(3, 4)]).decode()
    assert metric_sum(text, "modelship_requests_total", code="200") == 7
    assert metric_sum(text, "modelship_request_duration_seconds_count") == 7
    assert metric_sum(text, "modelship_request_duration_seconds_bucket", le="0.004") == 7
    assert metric_sum(text, "modelship_request_duration_seconds_bucket", le="0.0025") == 0
    assert metric_sum(text, "modelship_queue_depth") == 5
    assert metric_sum(text, "modelship_candidate_weight_percent") == 5
    assert metric_sum(text, "modelship_backend_info") == 1
