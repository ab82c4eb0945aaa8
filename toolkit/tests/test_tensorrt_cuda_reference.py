"""The PyTorch CUDA reference of parity and the NVML reading of peak GPU memory, for real.

SKIPPED unless torch sees a CUDA GPU (NVML tests also need pynvml): they run on a GPU machine with
torch + CUDA, with or without TensorRT:

    .venv/bin/python -m pytest toolkit/tests/test_tensorrt_cuda_reference.py -v
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import torch
from toolkit_helpers import TOOLKIT_PATH, base_request

from modelship_toolkit.reference import resolve_device
from modelship_toolkit.runners.pytorch import TorchRunner

HAS_CUDA = torch.cuda.is_available()
HAS_PYNVML = importlib.util.find_spec("pynvml") is not None
pytestmark = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")


def parity_request(repo, manifest, engines, **extra):
    return base_request(repo, manifest, enginePath=engines["fp32"]["engine"]["path"], backend="onnxruntime-cpu", precision="fp32", **extra)


def test_fp32_parity_with_the_cuda_reference_passes(toolkit, repo, manifest, engines):
    code, r = toolkit("parity", parity_request(repo, manifest, engines, referenceDevice="cuda"))
    assert code == 0, r
    assert r["devices"]["reference"].startswith("cuda") and r["devices"]["referenceGpu"]
    # 1000 dataset samples, then dataset samples fitted to the min/opt/max/mid shapes it did not cover.
    assert r["samples"] == 1000 + 1 + 32 + 256 + 128 and r["verdict"] == "pass"
    assert r["stats"]["maxAbs"] < 1e-4 and r["stats"]["top1"]["rate"] == 1.0
    print(f"\nCUDA reference on {r['devices']['referenceGpu']}: maxAbs {r['stats']['maxAbs']:.3e} vs the onnxruntime-cpu fp32 engine")


def test_auto_picks_cuda_when_a_gpu_is_visible(toolkit, repo, manifest, engines):
    code, r = toolkit("parity", parity_request(repo, manifest, engines))
    assert code == 0, r
    assert r["devices"]["reference"].startswith("cuda")


def test_cuda_and_cpu_references_agree(repo, session_manifest):
    from modelship_toolkit.model_loading import load_model

    ckpt = repo / "artifacts" / "model_best.pt"
    x = {"input": np.random.default_rng(0).normal(size=(64, 1, 8, 8)).astype(np.float32)}
    cpu = TorchRunner(load_model(str(repo), session_manifest, ckpt), torch.device("cpu"), ["input"], ["logits"]).run(x)["logits"]
    gpu = TorchRunner(load_model(str(repo), session_manifest, ckpt), resolve_device("cuda"), ["input"], ["logits"]).run(x)["logits"]
    assert np.max(np.abs(cpu - gpu)) < 1e-4


@pytest.mark.skipif(not HAS_PYNVML, reason="needs pynvml (nvidia-ml-py)")
def test_nvml_sees_the_peak_gpu_memory_of_another_process():
    mib = 1024
    code = (f"import torch, time; x = torch.empty({mib} * 2**20, dtype=torch.uint8, device='cuda'); "
            "torch.cuda.synchronize(); time.sleep(1.5)")
    child = subprocess.Popen([sys.executable, "-c", code])
    out = subprocess.run([sys.executable, "-m", "modelship_toolkit.tensorrt.gpumem", "--pid", str(child.pid), "--index", "0"],
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(TOOLKIT_PATH), "PATH": "/usr/bin:/bin"}).stdout
    assert child.wait() == 0
    import json

    r = json.loads(out.strip().splitlines()[-1])
    print(f"\nNVML reading: {r}")
    assert r["source"] == "nvml" and r["samples"] > 0
    assert r["peakBytes"] >= mib * 2**20, r


def test_doctor_sees_the_gpu(toolkit):
    code, r = toolkit("doctor", {})
    assert code == 0 and r["cuda"]["available"] and r["cuda"]["devices"]
    d = r["cuda"]["devices"][0]
    assert d["arch"] == "sm" + d["computeCapability"].replace(".", "")
    print(f"\ndoctor: {d['name']} {d['arch']}, CUDA {r['cuda']['version']}, driver {r['cuda']['driver']}, tensorrt {r['tensorrt']}")
    assert r["tensorrt"]["nvml"] == HAS_PYNVML
