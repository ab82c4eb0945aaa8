"""build on onnxruntime-cpu: fp32 optimised model, int8 QDQ model, refusals."""
from __future__ import annotations

import hashlib
from pathlib import Path

import onnx

from modelship_toolkit.onnx_info import operator_census


def request(repo, manifest, exported, tmp_path, precision, backend="onnxruntime-cpu"):
    return {"repoDir": str(repo), "manifest": manifest, "onnxPath": exported["onnx"]["path"],
            "backend": backend, "precision": precision, "outDir": str(tmp_path / "out")}


def test_fp32_engine(engines):
    r = engines["fp32"]
    engine = Path(r["engine"]["path"])
    assert engine.name == "engine.fp32.onnx"
    assert r["engine"]["sha256"] == hashlib.sha256(engine.read_bytes()).hexdigest()
    assert "quantization" not in r
    log = Path(r["log"]["path"]).read_text()
    assert "ORT_ENABLE_EXTENDED" in log
    onnx.checker.check_model(onnx.load(str(engine)))  # a loadable ONNX model


def test_int8_engine_is_a_qdq_model(engines):
    r = engines["int8"]
    q = r["quantization"]
    assert q["symmetric"] and q["activationType"] == "QInt8" and q["weightType"] == "QInt8"
    assert q["calibrationSamples"] == 256
    assert q["quantizedOnnx"]["sha256"] == r["engine"]["sha256"]
    census = operator_census(onnx.load(r["engine"]["path"]))
    assert census.get("QuantizeLinear", 0) > 0 and census.get("DequantizeLinear", 0) > 0
    assert "quantize_static" in Path(r["log"]["path"]).read_text()


def test_tensorrt_is_left_to_the_gpu_worker(toolkit, repo, manifest, exported, tmp_path):
    code, result = toolkit("build", request(repo, manifest, exported, tmp_path, "fp16", backend="tensorrt"))
    assert code == 2
    assert result["error"]["field"] == "backend" and "GPU worker" in result["error"]["message"]


def test_fp16_on_cpu_is_bad_input(toolkit, repo, manifest, exported, tmp_path):
    code, result = toolkit("build", request(repo, manifest, exported, tmp_path, "fp16"))
    assert code == 2 and result["error"]["field"] == "precision"


def test_missing_calibration_array_names_the_field(toolkit, repo, manifest, exported, tmp_path):
    manifest["calibration"]["arrays"] = {"input": "pixels"}
    code, result = toolkit("build", request(repo, manifest, exported, tmp_path, "int8"))
    assert code == 2
    assert result["error"]["field"] == "manifest.calibration.arrays.input"
    assert "pixels" in result["error"]["message"] and "it has: x, y" in result["error"]["message"]
    assert not list((tmp_path / "out").glob("engine.*"))


def test_missing_onnx_file(toolkit, repo, manifest, exported, tmp_path):
    req = request(repo, manifest, exported, tmp_path, "fp32") | {"onnxPath": str(tmp_path / "none.onnx")}
    code, result = toolkit("build", req)
    assert code == 2 and result["error"]["field"] == "onnxPath"


def test_int8_that_passes_by_default_keeps_the_default_levers(engines):
    levers = engines["int8"]["quantization"]["levers"]
    assert levers["calibration"] == "MinMax" and levers["keptInFloat"] == [] and levers["passedSearch"]
    assert len(levers["trials"]) == 1 and levers["evaluation"]["samples"] > 0


def test_int8_search_tries_every_lever_and_stops_at_the_float_budget(toolkit, repo, manifest, exported, tmp_path):
    manifest["parity"]["tolerances"]["int8"] = {"maxAbs": 1e-9}  # nothing int8 can meet
    code, r = toolkit("build", request(repo, manifest, exported, tmp_path, "int8"))
    assert code == 0, r
    levers = r["quantization"]["levers"]
    tried = [t["reason"] for t in levers["trials"]]
    assert tried[:3] == ["default: min-max calibration, per-channel weights", "Percentile calibration", "Entropy calibration"]
    assert any("whose quantization adds the most error" in t for t in tried)
    assert not levers["passedSearch"] and all(not t["passed"] for t in levers["trials"])
    model = onnx.load(r["engine"]["path"])
    compute = [n for n in model.graph.node if n.op_type in ("Conv", "MatMul", "Gemm")]
    kept = set(levers["keptInFloat"])
    budget = max(1, len(compute) // 2)
    assert sum(n.name in kept for n in compute) <= budget  # never int8 in name only
    for t in levers["trials"]:  # not even on the way (the sensitive-operator anchor included)
        assert sum(n.name in set(t["keptInFloat"]) for n in compute) <= budget, t["reason"]
    assert any(p.key == "modelship.quantization" for p in model.metadata_props)
    assert not list((tmp_path / "out").glob(".int8-candidate-*"))  # no candidate left behind


def test_parity_reports_the_levers_the_int8_engine_was_built_with(toolkit, repo, manifest, engines):
    code, r = toolkit("parity", {"repoDir": str(repo), "manifest": manifest, "checkpointPath": "artifacts/model_best.pt",
                                 "enginePath": engines["int8"]["engine"]["path"], "backend": "onnxruntime-cpu", "precision": "int8"})
    assert code == 0, r
    assert r["quantization"]["calibration"] == "MinMax" and r["quantization"]["passedSearch"]
