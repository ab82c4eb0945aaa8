"""The admin API and the variants: auth, verified loads, weighted sticky routing, shadow,
promote and rollback."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from serve_harness import metric_sum
from serve_pkgbuild import copy_package, edit_metadata

X = np.random.default_rng(3).normal(size=(1, 1, 8, 8)).astype(np.float32)


def _infer(c, rid=None):
    return c.infer(X.reshape(-1).tolist(), [1, 1, 8, 8], rid=rid)


def test_admin_needs_the_bearer_token(make_server):
    _, c = make_server()
    assert c.admin("GET", "state", token=None)[0] == 401
    assert c.admin("GET", "state", token="wrong")[0] == 403
    assert c.admin("POST", "rollback", token=None)[0] == 401
    status, state = c.admin("GET", "state")
    assert status == 200 and state["variants"]["stable"]["version"] == "v1.0.0"
    assert len(state["variants"]["stable"]["sha256"]) == 64


def test_load_refuses_tampered_or_misfit_packages(make_server, packages, tmp_path: Path):
    _, c = make_server()
    bad = copy_package(packages["v2"], tmp_path / "tampered")
    with open(bad / "model.onnx", "ab") as f:
        f.write(b"\0")
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(bad)})
    assert status == 409 and "model.onnx" in body["error"] and body["field"] == "files.model.onnx"
    meta = json.loads((bad / "metadata.json").read_text())
    meta["files"]["model.onnx"]["bytes"] = (bad / "model.onnx").stat().st_size
    (bad / "metadata.json").write_text(json.dumps(meta))
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(bad)})
    assert status == 409 and "sha256" in body["error"]

    trt = copy_package(packages["v2"], tmp_path / "trt")
    edit_metadata(trt, backend="tensorrt")
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(trt)})
    assert status == 422 and "tensorrt" in body["error"] and body["field"] == "backend"

    assert c.admin("POST", "load", {"variant": "candidate", "package": str(tmp_path / "nope")})[0] == 422
    assert c.admin("POST", "load", {"variant": "canary", "package": str(packages["v2"])})[0] == 422
    assert c.admin("POST", "weights", {"candidate": 10})[0] == 409  # nothing loaded
    assert "candidate" not in c.admin("GET", "state")[1]["variants"]
    assert _infer(c)[0] == 200


def test_weighted_routing_is_sticky_by_id(make_server, packages):
    _, c = make_server()
    status, body = c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})
    assert status == 200 and body["version"] == "v2.0.0"
    assert c.admin("POST", "weights", {"candidate": 101})[0] == 422
    assert c.admin("POST", "weights", {"candidate": 30})[0] == 200
    first = {}
    for i in range(300):
        status, headers, body = _infer(c, rid=f"user-{i}")
        assert status == 200
        first[i] = headers["x-modelship-variant"]
        assert body["model_version"] == ("v2.0.0" if first[i] == "candidate" else "v1.0.0")
    share = sum(v == "candidate" for v in first.values()) / len(first)
    assert 0.2 < share < 0.4, share
    for i in range(0, 300, 5):
        assert _infer(c, rid=f"user-{i}")[1]["x-modelship-variant"] == first[i]
    m = c.metrics()
    assert metric_sum(m, "modelship_requests_total", variant="candidate", version="v2.0.0", code="200") > 0
    assert 'modelship_candidate_weight_percent{model="digits"} 30.0' in m


def test_shadow_never_changes_stable_answers_and_records_agreement(make_server, packages):
    _, c = make_server()
    baseline = [_infer(c, rid=f"r{i}")[2]["outputs"] for i in range(5)]
    assert c.admin("POST", "load", {"variant": "shadow", "package": str(packages["v3"])})[0] == 200
    for i in range(5):
        status, headers, body = _infer(c, rid=f"r{i}")
        assert status == 200 and headers["x-modelship-variant"] == "stable"
        assert body["outputs"] == baseline[i] and body["model_version"] == "v1.0.0"
    deadline = time.time() + 5
    while time.time() < deadline and metric_sum(c.metrics(), "modelship_shadow_comparisons_total") < 5:
        time.sleep(0.05)
    m = c.metrics()
    labels = {"stable_version": "v1.0.0", "shadow_version": "v3.0.0"}
    assert metric_sum(m, "modelship_shadow_comparisons_total", **labels) == 5
    assert metric_sum(m, "modelship_shadow_agreement_total", **labels) in (0, 5)  # same input five times
    assert metric_sum(m, "modelship_shadow_max_abs_count", **labels) == 5
    assert metric_sum(m, "modelship_shadow_max_abs_sum", **labels) > 0  # other weights: outputs differ
    # a shadow with the same weights agrees everywhere
    assert c.admin("POST", "load", {"variant": "shadow", "package": str(packages["v2"])})[0] == 200
    for _ in range(4):
        _infer(c)
    labels = {"stable_version": "v1.0.0", "shadow_version": "v2.0.0"}
    deadline = time.time() + 5
    while time.time() < deadline and metric_sum(c.metrics(), "modelship_shadow_comparisons_total", **labels) < 4:
        time.sleep(0.05)
    m = c.metrics()
    assert metric_sum(m, "modelship_shadow_agreement_total", **labels) == 4
    assert metric_sum(m, "modelship_shadow_max_abs_sum", **labels) < 1e-5


def test_rollback_and_promote(make_server, packages):
    _, c = make_server()
    c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})
    c.admin("POST", "load", {"variant": "shadow", "package": str(packages["v3"])})
    c.admin("POST", "weights", {"candidate": 50})
    status, body = c.admin("POST", "rollback")
    assert status == 200 and body["stable"] == "v1.0.0"
    state = c.admin("GET", "state")[1]
    assert set(state["variants"]) == {"stable"} and state["weights"]["candidate"] == 0
    for i in range(20):
        status, headers, body = _infer(c, rid=f"x{i}")
        assert status == 200 and headers["x-modelship-variant"] == "stable" and body["model_version"] == "v1.0.0"
    assert 'variant="candidate"' not in c.metrics().split("# HELP modelship_backend_info")[1]

    assert c.admin("POST", "promote")[0] == 409  # no candidate
    c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})
    status, body = c.admin("POST", "promote")
    assert status == 200 and body == {"stable": "v2.0.0", "previous": "v1.0.0"}
    assert _infer(c)[2]["model_version"] == "v2.0.0"
    state = c.admin("GET", "state")[1]
    assert state["variants"]["previous"]["version"] == "v1.0.0"
    status, body = c.admin("POST", "rollback", {"toPrevious": True})
    assert status == 200 and body["stable"] == "v1.0.0"
    assert _infer(c)[2]["model_version"] == "v1.0.0"


def test_admin_replies_keep_the_contract_the_rollout_reads(make_server, packages):
    """Every admin reply the rollout's client parses matches the JSON Schema generated from
    lib/runtime-admin.ts (the same zod schemas the client parses with)."""
    import jsonschema

    schemas = Path(__file__).resolve().parents[2] / "modelship_toolkit" / "schemas"

    def check(kind: str, reply: dict) -> None:
        schema = json.loads((schemas / f"admin.{kind}.json").read_text())
        jsonschema.Draft202012Validator(schema).validate(reply)

    _, c = make_server()
    status, loaded = c.admin("POST", "load", {"variant": "candidate", "package": str(packages["v2"])})
    assert status == 200
    check("load", loaded)
    status, weights = c.admin("POST", "weights", {"candidate": 25, "shadow": 50})
    assert status == 200
    check("weights", weights)
    status, state = c.admin("GET", "state")
    assert status == 200 and set(state["variants"]) == {"stable", "candidate"}
    check("state", state)
    status, promoted = c.admin("POST", "promote")
    assert status == 200 and promoted["stable"] == "v2.0.0"
    check("promote", promoted)
    status, rolled_back = c.admin("POST", "rollback")
    assert status == 200
    check("rollback", rolled_back)
    status, fits = c.admin("POST", "fits", {"backend": "onnxruntime-cpu"})
    assert status == 200
    check("fits", fits)
    # The schema is no rubber stamp: a reply without weights, or a weight over 100, is refused.
    broken = dict(state, weights={"candidate": 101, "stable": 0, "shadow": 0})
    try:
        check("state", broken)
    except jsonschema.ValidationError as e:
        assert "101" in str(e.message)
    else:
        raise AssertionError("a weight of 101% passed the admin contract")


def test_fits_applies_the_compatibility_lock_for_the_rollout(make_server):
    """``POST /admin/fits``: the fleet check asks the serving host, which applies the same rule it
    loads with. A CPU package fits here; a tensorrt engine does not (no GPU), naming the field; a
    metadata.json without a known backend is refused."""
    _, c = make_server()
    status, body = c.admin("POST", "fits", {"backend": "onnxruntime-cpu", "name": "digits", "files": {}})
    assert status == 200 and body["fits"] is True and body["reason"] is None and body["host"]
    lock = {"tensorrt": "10.6.0", "computeCapability": "9.0", "arch": "sm90", "hardwareCompatibility": "none"}
    status, body = c.admin("POST", "fits", {"backend": "tensorrt", "compatibility": lock})
    assert status == 200 and body["fits"] is False
    if body["tensorrt"] is None:  # this machine: no GPU or no TensorRT
        assert body["field"] == "backend" and "no usable GPU" in body["reason"]
    status, body = c.admin("POST", "fits", {"backend": "tflite"})
    assert status == 422 and "backend" in body["error"]
    assert c.admin("GET", "fits")[0] == 405
