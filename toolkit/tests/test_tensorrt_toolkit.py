"""The toolkit's TensorRT path on any host: the int8 QDQ model trtexec builds from, parity's clear
refusal without TensorRT or CUDA, the NVML watcher without pynvml, and the serving runtime's
compatibility lock (pure)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import onnx
import pytest
import torch

from modelship_toolkit.serve.package import PackageError, check_tensorrt_compat
from toolkit_helpers import TOOLKIT_PATH, base_request

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
HAS_CUDA = torch.cuda.is_available()
HAS_PYNVML = importlib.util.find_spec("pynvml") is not None


def build_request(repo, manifest, exported, precision, out):
    return {"repoDir": str(repo), "manifest": manifest, "onnxPath": exported["onnx"]["path"],
            "backend": "tensorrt", "precision": precision, "outDir": str(out)}


def test_int8_build_for_tensorrt_writes_the_qdq_model(toolkit, repo, manifest, exported, tmp_path):
    code, r = toolkit("build", build_request(repo, manifest, exported, "int8", tmp_path / "out"))
    assert code == 0, r
    assert r["backend"] == "tensorrt" and r["engine"]["path"].endswith("trtexec-input.int8.qdq.onnx")
    assert r["quantization"]["quantizedOnnx"] == r["engine"] and r["quantization"]["calibrationSamples"] == 256
    ops = {n.op_type for n in onnx.load(r["engine"]["path"]).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_fp16_build_for_tensorrt_is_left_to_trtexec(toolkit, repo, manifest, exported, tmp_path):
    code, r = toolkit("build", build_request(repo, manifest, exported, "fp16", tmp_path / "out"))
    assert code == 2 and r["error"]["field"] == "backend" and "GPU worker with trtexec" in r["error"]["message"]


@pytest.mark.skipif(HAS_TENSORRT, reason="tensorrt is installed here")
def test_tensorrt_parity_without_tensorrt_is_bad_input(toolkit, repo, manifest, engines):
    manifest["parity"]["tolerances"]["fp16"] = {"maxAbs": 0.01}
    req = base_request(repo, manifest, enginePath=engines["fp32"]["engine"]["path"], backend="tensorrt", precision="fp16")
    code, r = toolkit("parity", req)
    assert code == 2
    assert r["error"]["type"] == "TensorRTUnavailable" and r["error"]["field"] == "backend"
    assert "tensorrt is not installed on this worker" in r["error"]["message"]


@pytest.mark.skipif(HAS_CUDA, reason="a CUDA GPU is visible here")
def test_cuda_reference_without_a_gpu_is_bad_input(toolkit, repo, manifest, engines):
    req = base_request(repo, manifest, enginePath=engines["fp32"]["engine"]["path"], backend="onnxruntime-cpu",
                       precision="fp32", referenceDevice="cuda")
    code, r = toolkit("parity", req)
    assert code == 2 and r["error"]["type"] == "NoGpu" and r["error"]["field"] == "referenceDevice"


@pytest.mark.skipif(HAS_CUDA, reason="a CUDA GPU is visible here")
def test_auto_reference_runs_on_the_cpu_without_a_gpu(toolkit, repo, manifest, engines):
    req = base_request(repo, manifest, enginePath=engines["fp32"]["engine"]["path"], backend="onnxruntime-cpu", precision="fp32")
    code, r = toolkit("parity", req)
    assert code == 0, r
    assert r["devices"] == {"reference": "cpu", "referenceGpu": None, "engine": "cpu"}


@pytest.mark.skipif(HAS_PYNVML, reason="pynvml is installed here")
def test_gpu_memory_watcher_without_pynvml_says_why():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    out = subprocess.run([sys.executable, "-m", "modelship_toolkit.tensorrt.gpumem", "--pid", str(child.pid)],
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(TOOLKIT_PATH)}).stdout
    child.wait()
    assert '"source": null' in out and "pynvml is not installed" in out


def test_doctor_reports_tensorrt_and_nvml(toolkit):
    code, r = toolkit("doctor", {})
    assert code == 0
    assert set(r["tensorrt"]) == {"version", "nvml"}
    assert (r["tensorrt"]["version"] is None) == (not HAS_TENSORRT)


LOCK = {"tensorrt": "10.16.1", "computeCapability": "9.0", "arch": "sm90", "hardwareCompatibility": "none",
        "cuda": "12.9", "driver": "575.57.08"}


def test_compat_accepts_the_building_architecture_and_release():
    check_tensorrt_compat(LOCK, {"tensorrt": "10.16.1.11", "computeCapability": "9.0", "arch": "sm90"})


def test_compat_refuses_another_architecture_naming_both():
    with pytest.raises(PackageError) as e:
        check_tensorrt_compat(LOCK, {"tensorrt": "10.16.1", "computeCapability": "8.9", "arch": "sm89"})
    assert "built for sm90 with TensorRT 10.16.1; this host is sm89 with TensorRT 10.16.1" in e.value.message
    assert e.value.field == "compatibility.computeCapability" and e.value.status == 422


def test_compat_refuses_another_tensorrt_release_naming_both():
    with pytest.raises(PackageError) as e:
        check_tensorrt_compat(LOCK, {"tensorrt": "10.14.1", "computeCapability": "9.0", "arch": "sm90"})
    assert "built for sm90 with TensorRT 10.16.1; this host is sm90 with TensorRT 10.14.1" in e.value.message


def test_compat_ampere_plus_runs_on_newer_gpus_and_a_missing_lock_is_refused():
    check_tensorrt_compat({**LOCK, "hardwareCompatibility": "ampere+"}, {"tensorrt": "10.16.1", "computeCapability": "8.9", "arch": "sm89"})
    with pytest.raises(PackageError, match="must record the TensorRT version"):
        check_tensorrt_compat(None, {"tensorrt": "10.16.1", "computeCapability": "9.0"})
