"""``build`` (step 3). onnxruntime-cpu: an FP32 optimised model, or an INT8 QDQ model. tensorrt: what
trtexec builds from at int8 (the GPU worker runs trtexec): the QDQ model, with the same quantization
as the onnxruntime-cpu int8 build. Other tensorrt precisions need no toolkit step (bad input here)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from .. import int8_search, progress, quantize
from ..buildlog import BuildLog
from ..data import Dataset, across_shapes, load_npz
from ..errors import BadInput
from ..hashing import file_digest
from ..manifest import batch_of, random_inputs, shapes_at
from ..onnx_info import operator_census
from ..paths import existing_file, out_dir
from ..qdq_form import qdq_census, tensorrt_qdq_problems
from ..versions import python, versions
from ._backend import require_known

# ORT_ENABLE_EXTENDED, not ORT_ENABLE_ALL: EXTENDED applies graph-level fusions (constant folding,
# Conv+activation, GELU, LayerNorm, ...) that every ONNX Runtime CPU build runs, while ALL adds
# layout transforms (NCHWc) chosen for this machine's vector width, so a model saved with ALL
# may be slower or wrong-layout on another CPU. The engine must stay portable across CPU workers.
FP32_LEVEL = "ORT_ENABLE_EXTENDED"


def _optimize_fp32(src: Path, dst: Path, log: BuildLog) -> None:
    """Saves ONNX Runtime's offline-optimised model of ``src`` to ``dst``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, FP32_LEVEL)
    opts.optimized_model_filepath = str(dst)
    opts.log_severity_level = 3
    log(f"onnxruntime {ort.__version__}: optimising {src.name} at {FP32_LEVEL} (CPUExecutionProvider)")
    ort.InferenceSession(str(src), sess_options=opts, providers=["CPUExecutionProvider"])


def _int8(request: dict[str, Any], src: Path, dst: Path, work: Path, log: BuildLog) -> dict[str, Any]:
    """Builds the QDQ INT8 model; returns the result's ``quantization`` without its digest."""
    manifest = request["manifest"]
    calib = manifest.get("calibration")
    if not calib:
        raise BadInput(
            "an int8 build needs calibration data",
            field="manifest.calibration",
            hint="add calibration: { path: data/calib.npz, arrays: { <input>: <array> }, samples: 256 }",
        )
    data = load_npz(request["repoDir"], calib, manifest, field="manifest.calibration")
    if len(data) < calib["samples"]:
        raise BadInput(
            f"{data.path} holds {len(data)} samples, calibration.samples asks for {calib['samples']}",
            field="manifest.calibration.samples",
            hint=f"lower calibration.samples to at most {len(data)} or add samples to the file",
        )
    subset, held_out = quantize.calibration_split(data, calib["samples"])
    log(f"calibration data: {data.path} ({len(data)} samples), using {len(subset)} (seeded permutation, seed {quantize.CALIBRATION_SEED})")
    evaluation, source = _evaluation_data(request, held_out)
    calibration_sets, evaluation_sets = across_shapes(subset, manifest), across_shapes(evaluation, manifest)
    log(f"calibration and evaluation at {len(calibration_sets)} input size(s): {[{k: list(v.shape[1:]) for k, v in d.inputs.items()} for d in calibration_sets]}")
    pre = quantize.preprocess(src, work / f".preprocessed.{os.getpid()}.onnx", log)
    batch = batch_of(shapes_at(manifest, "opt"), manifest)
    outputs = [o["name"] for o in manifest["outputs"]]
    tolerance = manifest["parity"]["tolerances"]["int8"]
    classification = manifest["task"]["kind"] == "classification"
    try:
        reference = int8_search.reference_outputs(pre, evaluation_sets, batch)
        chosen, levers, trials = int8_search.search(
            pre, work,
            quantize=lambda lv, path: quantize.quantize(pre, path, calibration_sets, batch, log, lv),
            judge=lambda path: int8_search.evaluate(reference, path, evaluation_sets, tolerance, outputs, classification, batch),
            rank=lambda path: int8_search.node_sensitivity(pre, path, evaluation, batch),
            log=log,
        )
        record = {**levers.describe(), "passedSearch": next(t for t in reversed(trials) if t.levers is levers).passed,
                  "evaluation": {"source": source, "samples": sum(map(len, evaluation_sets))},
                  "trials": [{**t.levers.describe(), "passed": t.passed, **t.summary} for t in trials]}
        int8_search.stamp(chosen, record)
        os.replace(chosen, dst)
    finally:
        if pre != src:
            pre.unlink(missing_ok=True)
    census = _check_qdq_form(dst, log)
    return {
        "method": quantize.SETTINGS["method"],
        "levers": record,
        "symmetric": quantize.SETTINGS["symmetric"],
        "calibrationSamples": sum(map(len, calibration_sets)),
        "activationType": quantize.SETTINGS["activationType"],
        "weightType": quantize.SETTINGS["weightType"],
        "biases": quantize.SETTINGS["biases"],
        "qdq": {
            "quantizeLinear": census["QuantizeLinear"],
            "dequantizeLinear": census["DequantizeLinear"],
            "zeroPointTypes": census["zeroPointTypes"],
        },
    }


EVALUATION_SAMPLES = 1000
"""At most this many samples judge each candidate of the INT8 search."""


def _evaluation_data(request: dict[str, Any], held_out: Dataset) -> tuple[Dataset, str]:
    """Samples that judge the INT8 candidates: the calibration file's samples calibration did not
    use, else the parity dataset, else seeded random inputs at the opt shape."""
    manifest = request["manifest"]
    if len(held_out) >= 200:
        return held_out.take(np.arange(min(len(held_out), EVALUATION_SAMPLES))), "calibration file, samples not used to calibrate"
    spec = manifest["parity"]["data"]
    if spec["kind"] == "dataset":
        data = load_npz(request["repoDir"], spec, manifest, field="manifest.parity.data")
        index = np.random.default_rng(manifest["parity"]["seed"] + 1).permutation(len(data))[:EVALUATION_SAMPLES]
        return data.take(index), "parity dataset (another seeded selection than parity's)"
    feeds = random_inputs(manifest, shapes_at(manifest, "opt"), np.random.default_rng(manifest["parity"]["seed"] + 1))
    return Dataset(feeds, None, Path("random")), "seeded random inputs at the opt shape"


def _check_qdq_form(path: Path, log: BuildLog) -> dict[str, Any]:
    """Refuses a QDQ model TensorRT would not build as INT8 (the same model feeds ONNX Runtime and TensorRT)."""
    model = onnx.load(str(path))
    census = qdq_census(model)
    log(f"QDQ form: {census}")
    problems = tensorrt_qdq_problems(model)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BadInput(
            f"the INT8 model is not in the QDQ form TensorRT builds from: {shown}",
            field="precision",
            hint="the model may have no operator ONNX Runtime quantizes (Conv, MatMul, Gemm, ...); drop int8 from the target's precisions",
            type="UnsupportedQuantization",
        )
    return census


def _result(engine: dict[str, Any], backend: str, precision: str, log_path: Path, vers: dict[str, Any],
            started: float, quantization: dict[str, Any] | None) -> dict[str, Any]:
    """The build result (the contract's BuildResult) of one engine or trtexec input."""
    result: dict[str, Any] = {
        "engine": engine,
        "backend": backend,
        "precision": precision,
        "log": file_digest(log_path),
        "versions": vers,
        "durationMs": (time.perf_counter() - started) * 1000,
    }
    if quantization is not None:
        result["quantization"] = quantization
    return result


def _tensorrt_input(request: dict[str, Any], started: float) -> dict[str, Any]:
    """tensorrt: writes ``trtexec-input.<precision>.onnx`` (QDQ at int8) and its log into outDir."""
    precision = request["precision"]
    src = existing_file(request["repoDir"], request["onnxPath"], field="onnxPath", what="ONNX model")
    out = out_dir(request["outDir"])
    log = BuildLog()
    vers = {"python": python(), **versions("onnxruntime", "onnx", "numpy")}
    log(f"prepare tensorrt {precision} input from {src} ({file_digest(src)['sha256']}); versions {vers}")
    quantization = None
    if precision == "int8":
        progress.report("build", 0, 1, "quantizing to QDQ INT8 for TensorRT")
        target = out / "trtexec-input.int8.qdq.onnx"
        partial = out / f".trtexec-input.int8.{os.getpid()}.partial.onnx"
        try:
            quantization = _int8(request, src, partial, out, log)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        quantization["quantizedOnnx"] = file_digest(target)
        log(f"QDQ model for trtexec (explicit quantization, no --calib): {target} sha256 {quantization['quantizedOnnx']['sha256']}")
    else:  # pragma: no cover - refused in run()
        target = src
    log_path = log.write(out / f"prepare.{precision}.log")
    progress.report("build", 1, 1, f"{target}")
    return _result(file_digest(target), "tensorrt", precision, log_path, vers, started, quantization)


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs build; writes ``engine.<precision>.onnx`` and ``build.<precision>.log`` into outDir."""
    started = time.perf_counter()
    backend, precision = request["backend"], request["precision"]
    require_known(backend, "build")
    if backend == "tensorrt":
        if precision != "int8":
            raise BadInput(
                f"a tensorrt {precision} engine is built by the GPU worker with trtexec from the exported ONNX; "
                "the toolkit only prepares the QDQ model of int8 builds",
                field="backend",
                hint="route tensorrt targets to the GPU task queue (modelship worker --gpu)",
                type="UnsupportedBackend",
            )
        return _tensorrt_input(request, started)
    if precision not in ("fp32", "int8"):
        raise BadInput(
            f"onnxruntime-cpu builds fp32 and int8, not {precision}",
            field="precision",
            hint="fp16/bf16 engines are built by the tensorrt backend",
        )
    src = existing_file(request["repoDir"], request["onnxPath"], field="onnxPath", what="ONNX model")
    out = out_dir(request["outDir"])
    log = BuildLog()
    vers = {"python": python(), **versions("onnxruntime", "onnx", "numpy")}
    log(f"build {backend} {precision} from {src} ({file_digest(src)['sha256']}); versions {vers}")
    engine = out / f"engine.{precision}.onnx"
    partial = out / f".engine.{precision}.{os.getpid()}.partial.onnx"
    progress.report("build", 0, 1, f"building {precision}")
    quantization = None
    try:
        if precision == "fp32":
            _optimize_fp32(src, partial, log)
        else:
            quantization = _int8(request, src, partial, out, log)
        census = operator_census(onnx.load(str(partial)))
        log(f"engine operators: {census}")
        os.replace(partial, engine)
    finally:
        partial.unlink(missing_ok=True)
    digest = file_digest(engine)
    if quantization is not None:
        # For onnxruntime-cpu the QDQ model is itself the engine (ORT fuses QDQ pairs at load time).
        quantization["quantizedOnnx"] = digest
    log(f"engine {engine} sha256 {digest['sha256']} ({digest['bytes']} bytes)")
    log_path = log.write(out / f"build.{precision}.log")
    progress.report("build", 1, 1, f"{engine}")
    return _result(digest, backend, precision, log_path, vers, started, quantization)
