"""The toolkit's TensorRT path on any host: the int8 QDQ model trtexec builds from, parity's clear
refusal without TensorRT or CUDA, the NVML watcher without pynvml, and the serving runtime's
compatibility lock (pure)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
import torch
from toolkit_helpers import TOOLKIT_PATH, base_request

from modelship_toolkit.serve.package import PackageError, check_tensorrt_compat

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
    with pytest.raises(PackageError, match="hardware compatibility is 'ampere\\+'"):
        check_tensorrt_compat({**LOCK, "hardwareCompatibility": "ampere+"}, {"tensorrt": "10.16.1", "computeCapability": "7.5", "arch": "sm75"})
    with pytest.raises(PackageError, match="must record the TensorRT version"):
        check_tensorrt_compat(None, {"tensorrt": "10.16.1", "computeCapability": "9.0"})


def test_int8_qdq_model_is_in_the_form_tensorrt_parses(toolkit, repo, manifest, exported, tmp_path):
    """The QDQ model both int8 engines come from: INT8 zero points (all 0), float biases, Q/DQ present."""
    from modelship_toolkit.qdq_form import BIAS_INPUT, tensorrt_qdq_problems

    code, r = toolkit("build", build_request(repo, manifest, exported, "int8", tmp_path / "out"))
    assert code == 0, r
    model = onnx.load(r["engine"]["path"])
    assert tensorrt_qdq_problems(model) == []
    inits = {t.name: t for t in model.graph.initializer}
    dq_out = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            assert inits[node.input[2]].data_type == onnx.TensorProto.INT8, node.name
        if node.op_type in BIAS_INPUT and len(node.input) > 2:
            assert node.input[2] not in dq_out and node.input[2] in inits, f"{node.name}: bias must be a float initializer"
            assert inits[node.input[2]].data_type == onnx.TensorProto.FLOAT
    q = r["quantization"]
    assert q["biases"] == "float" and q["qdq"]["quantizeLinear"] > 0 and set(q["qdq"]["zeroPointTypes"]) == {"INT8"}


def test_onnxruntime_default_qdq_is_named_for_what_tensorrt_refuses(repo, exported, tmp_path):
    """ONNX Runtime's quantizer defaults (UINT8 activations, INT32 biases): what TensorRT 10.6 refused on the H200."""
    import numpy as np
    from onnxruntime.quantization import QuantFormat, quantize_static

    from modelship_toolkit.qdq_form import tensorrt_qdq_problems

    x = np.load(repo / "data" / "heldout.npz")["x"][:64].astype(np.float32)

    class Reader:
        def __init__(self):
            self.it = iter([{"input": x[i : i + 32]} for i in range(0, 64, 32)])

        def get_next(self):
            return next(self.it, None)

    dst = tmp_path / "default.qdq.onnx"
    quantize_static(exported["onnx"]["path"], str(dst), Reader(), quant_format=QuantFormat.QDQ)
    problems = tensorrt_qdq_problems(onnx.load(str(dst)))
    assert any("bias comes from DequantizeLinear" in p for p in problems), problems
    assert any("zero point is INT32" in p for p in problems), problems
    assert tensorrt_qdq_problems(onnx.load(exported["onnx"]["path"])) == [
        "no QuantizeLinear/DequantizeLinear nodes: this is not an explicitly quantized model"
    ]


def test_qdq_form_names_uint8_missing_and_asymmetric_zero_points():
    """A hand-made graph with each zero-point mistake TensorRT refuses."""
    from onnx import TensorProto, helper

    from modelship_toolkit.qdq_form import tensorrt_qdq_problems

    def zp(name, dtype, value):
        return helper.make_tensor(name, dtype, [], [value])

    scale = helper.make_tensor("s", TensorProto.FLOAT, [], [0.1])
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zu8"], ["q1"], name="q_uint8"),
        helper.make_node("DequantizeLinear", ["q1", "s", "zu8"], ["d1"], name="dq_uint8"),
        helper.make_node("QuantizeLinear", ["d1", "s"], ["q2"], name="q_missing"),
        helper.make_node("DequantizeLinear", ["q2", "s"], ["d2"], name="dq_missing"),
        helper.make_node("QuantizeLinear", ["d2", "s", "zi8"], ["q3"], name="q_asym"),
        helper.make_node("DequantizeLinear", ["q3", "s", "zi8"], ["y"], name="dq_asym"),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[scale, zp("zu8", TensorProto.UINT8, 128), zp("zi8", TensorProto.INT8, 3)],
    )
    problems = tensorrt_qdq_problems(helper.make_model(graph))
    assert [p.split(":")[0] for p in problems] == [
        "QuantizeLinear q_uint8", "DequantizeLinear dq_uint8", "QuantizeLinear q_missing", "DequantizeLinear dq_missing",
        "QuantizeLinear q_asym", "DequantizeLinear dq_asym",
    ]
    assert "UINT8" in problems[0] and "defaults to UINT8" in problems[2] and "asymmetric" in problems[4]


@pytest.mark.parametrize(
    ("process_peak", "device_peak", "expected"),
    [
        (512 << 20, 900 << 20, {"source": "nvml", "peakBytes": 512 << 20, "scope": "process"}),
        (None, 300 << 20, {"source": "nvml", "peakBytes": 300 << 20, "scope": "device"}),
        # The H200 container: NVML listed trtexec with 0 bytes and the device never rose above its baseline.
        (0, 0, {"source": None, "peakBytes": None}),
        (None, 0, {"source": None, "peakBytes": None}),
    ],
)
def test_gpu_memory_reading_of_zero_is_no_reading(process_peak, device_peak, expected):
    from modelship_toolkit.tensorrt.gpumem import Sampler

    sampler = object.__new__(Sampler)  # the decision alone, without NVML
    sampler.process_peak, sampler.device_peak, sampler.samples = process_peak, device_peak, 7
    reading = sampler.peak()
    assert {k: reading.get(k) for k in expected} == expected
    if expected["source"] is None:
        assert "NVML saw no memory" in reading["reason"]


def test_qdq_form_names_a_constant_quantized_outside_a_weighted_layer():
    """The QDQ model TensorRT 10.6 refused on the H200 ("Quantized constant is only allowed before
    DQ or PLUGIN", the GELU's + 1 quantized into an Add), recorded there: named before trtexec runs."""
    from modelship_toolkit.qdq_form import tensorrt_qdq_problems

    refused = onnx.load(str(Path(__file__).parent / "fixtures" / "two-head-regression.refused-by-trt10.6.qdq.onnx"))
    problems = tensorrt_qdq_problems(refused)
    assert problems == [
        "Add node_Add_6: takes the quantized constant from val_5_DequantizeLinear; TensorRT quantizes constants only as weights of Conv, ConvTranspose, Gemm and MatMul",
        "Add node_Add_13: takes the quantized constant from val_5_DequantizeLinear; TensorRT quantizes constants only as weights of Conv, ConvTranspose, Gemm and MatMul",
    ]


def test_int8_quantizes_only_the_inputs_of_weighted_operators(toolkit, repo, manifest, exported, tmp_path):
    code, r = toolkit("build", build_request(repo, manifest, exported, "int8", tmp_path / "out"))
    assert code == 0, r
    model = onnx.load(r["engine"]["path"])
    consumers: dict[str, list[str]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n.op_type)
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear":  # every Q/DQ pair exists for a weighted operator
            assert set(consumers[node.output[0]]) & {"Conv", "ConvTranspose", "Gemm", "MatMul"}, f"{node.name} feeds {consumers[node.output[0]]}"
