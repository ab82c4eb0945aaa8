"""bench and doctor."""
from __future__ import annotations


def test_bench_default_shapes(toolkit, manifest, engines):
    manifest["benchmark"] = {"warmup": 2, "iterations": 10}
    code, r = toolkit("bench", {"manifest": manifest, "enginePath": engines["int8"]["engine"]["path"],
                                "backend": "onnxruntime-cpu", "precision": "int8"})
    assert code == 0, r
    assert [s["batch"] for s in r["shapes"]] == [1, 32, 256, 128]  # min, opt, max and mid (halfway between min and max)
    for s in r["shapes"]:
        lat = s["latencyMs"]
        assert 0 < lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert s["throughputPerSec"] > 0
    assert r["peakMemoryBytes"] > 0 and r["threads"] >= 1 and r["host"]["cores"] >= 1


def test_bench_named_shapes(toolkit, manifest, engines):
    manifest["benchmark"] = {"warmup": 1, "iterations": 5, "shapes": [{"input": [8, 1, 8, 8]}]}
    code, r = toolkit("bench", {"manifest": manifest, "enginePath": engines["fp32"]["engine"]["path"],
                                "backend": "onnxruntime-cpu", "precision": "fp32"})
    assert code == 0 and [s["shape"] for s in r["shapes"]] == [{"input": [8, 1, 8, 8]}]


def test_bench_missing_engine(toolkit, manifest, tmp_path):
    code, r = toolkit("bench", {"manifest": manifest, "enginePath": str(tmp_path / "x.onnx"),
                                "backend": "onnxruntime-cpu", "precision": "fp32"})
    assert code == 2 and r["error"]["field"] == "enginePath"


def test_doctor(toolkit):
    code, r = toolkit("doctor", {})
    assert code == 0
    assert r["versions"]["torch"] and r["versions"]["onnxruntime"]
    assert "CPUExecutionProvider" in r["onnxruntimeProviders"]
    assert r["host"]["cores"] >= 1 and r["host"]["memoryBytes"] > 0
    if not r["cuda"]["available"]:
        assert r["cuda"]["devices"] == []
    for d in r["cuda"]["devices"]:
        assert d["arch"] == "sm" + d["computeCapability"].replace(".", "")
