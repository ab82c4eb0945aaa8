"""The PyTorch fallback: used when the engine is missing or corrupt, and said so in health,
model metadata, admin state and metrics."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from serve_harness import metric_sum
from serve_pkgbuild import copy_package, edit_metadata


def _missing_engine(packages, tmp: Path) -> Path:
    p = copy_package(packages["v1"], tmp / "missing")
    (p / "model.onnx").unlink()
    edit_metadata(p)  # relist files without the engine
    return p


def _corrupt_engine(packages, tmp: Path) -> Path:
    p = copy_package(packages["v1"], tmp / "corrupt")
    (p / "model.onnx").write_bytes(b"this is not an onnx model")
    edit_metadata(p)  # digests match the corrupt bytes: the load gets as far as the engine
    return p


@pytest.mark.parametrize("make_pkg, reason", [(_missing_engine, "missing"), (_corrupt_engine, "failed to load")])
def test_fallback_serves_and_reports_itself(make_server, packages, tmp_path, make_pkg, reason):
    pkg = make_pkg(packages, tmp_path)
    _, c = make_server(pkg)
    status, _, ready = c.request("GET", "/v2/health/ready")
    assert status == 200 and ready["variants"]["stable"]["fallback"] is True
    assert reason in ready["variants"]["stable"]["fallbackReason"]
    meta = c.request("GET", "/v2/models/digits")[2]
    assert meta["platform"] == "pytorch_libtorch" and meta["parameters"]["fallback"] is True
    x = np.random.default_rng(5).normal(size=(3, 1, 8, 8)).astype(np.float32)
    status, _, body = c.infer(x.reshape(-1).tolist(), [3, 1, 8, 8])
    assert status == 200
    ref = ort.InferenceSession(str(packages["v1"] / "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(np.asarray(body["outputs"][0]["data"]).reshape(3, 10), ref, atol=1e-4)
    m = c.metrics()
    assert metric_sum(m, "modelship_backend_info", variant="stable", backend="pytorch", fallback="true") == 1
    assert c.admin("GET", "state")[1]["variants"]["stable"]["backend"] == "pytorch"


def test_engine_present_but_unlisted_is_refused(make_server, packages, tmp_path):
    p = copy_package(packages["v1"], tmp_path / "unlisted")
    meta = json.loads((p / "metadata.json").read_text())
    del meta["files"]["model.onnx"]
    (p / "metadata.json").write_text(json.dumps(meta))
    _, c = make_server()
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(p)})
    assert status == 409 and "not listed in files" in body["error"]


def test_no_engine_and_no_fallback_is_refused(make_server, packages, tmp_path):
    p = copy_package(packages["v1"], tmp_path / "hopeless")
    (p / "model.onnx").unlink()
    (p / "model_best.pt").unlink()
    edit_metadata(p)
    _, c = make_server()
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(p)})
    assert status == 422 and "fallback cannot load" in body["error"] and "checkpoint" in body["error"]
