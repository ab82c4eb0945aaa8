"""The two entry points as users run them: ``python -m modelship_toolkit.serve`` in its own
process, and ``python -m modelship_toolkit.traffic`` replaying an .npz against it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from serve_harness import TOKEN, Client, metric_sum

TOOLKIT = Path(__file__).resolve().parents[2]


def test_serve_cli_and_traffic_generator(packages, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    env = {**os.environ, "PYTHONPATH": str(TOOLKIT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--admin-token-file", str(token_file),
         "--stable-package", str(packages["v1"]), "--model-name", "digits", "--batch-window-ms", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        ready = json.loads(line)
        assert ready["event"] == "listening" and ready["models"] == ["digits"]
        c = Client(ready["port"])
        assert c.admin("GET", "state")[0] == 200
        assert c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})[0] == 200
        assert c.admin("POST", "weights", {"candidate": 50})[0] == 200

        rng = np.random.default_rng(0)
        npz = tmp_path / "heldout.npz"
        np.savez(npz, x=rng.normal(size=(20, 1, 8, 8)).astype(np.float32), y=rng.integers(0, 10, size=20).astype(np.int64))
        out = subprocess.run(
            [sys.executable, "-m", "modelship_toolkit.traffic", "--url", f"http://127.0.0.1:{ready['port']}", "--model", "digits",
             "--data", str(npz), "--rate", "40", "--duration", "1", "--labels"],
            capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr + out.stdout
        summary = json.loads(out.stdout)
        assert summary["sent"] == 40 and summary["by_status"] == {"200": 40}
        assert set(summary["by_variant"]) == {"stable", "candidate"}
        assert 0 <= summary["accuracy"] <= 1 and summary["labelled"] == 40
        assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
        m = c.metrics()
        assert metric_sum(m, "modelship_labelled_predictions_total") == 40
        assert metric_sum(m, "modelship_correct_predictions_total") == round(summary["accuracy"] * 40)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_serve_cli_refuses_a_tampered_stable(packages, tmp_path):
    from serve_pkgbuild import copy_package

    bad = copy_package(packages["v1"], tmp_path / "bad")
    (bad / "model_best.pt").write_bytes(b"x")
    env = {**os.environ, "PYTHONPATH": str(TOOLKIT), "MODELSHIP_ADMIN_TOKEN": TOKEN}
    out = subprocess.run([sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--stable-package", str(bad)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "model_best.pt" in out.stderr


def test_serve_cli_says_which_grpc_port_it_cannot_bind(packages):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        env = {**os.environ, "PYTHONPATH": str(TOOLKIT), "MODELSHIP_ADMIN_TOKEN": TOKEN}
        out = subprocess.run([sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--grpc-port", str(port),
                              "--stable-package", str(packages["v1"])], capture_output=True, text=True, env=env, timeout=60)
    finally:
        taken.close()
    assert out.returncode == 2 and f"cannot listen for gRPC on 127.0.0.1:{port}" in out.stderr, out.stderr[-500:]


def test_serve_cli_names_a_bad_engine_instances_or_shared_memory_flag():
    from modelship_toolkit.serve.__main__ import parse_args

    assert parse_args(["--engine-instances", "4", "--shared-memory", "system"]).engine_instances == 4
    env = {**os.environ, "PYTHONPATH": str(TOOLKIT)}
    for flag, value, says in (("--engine-instances", "0", "expected a whole number from 1 to 16, got '0'"),
                              ("--engine-instances", "two", "got 'two'"),
                              ("--shared-memory", "cuda", "invalid choice: 'cuda'")):
        out = subprocess.run([sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", flag, value],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 2 and f"argument {flag}" in out.stderr and says in out.stderr, out.stderr
