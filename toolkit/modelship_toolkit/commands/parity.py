"""``parity`` (step 4): the PyTorch reference vs the engine on ≥ 1000 fixed-seed or dataset samples."""
from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from .. import int8_search, progress
from ..checks import verdict
from ..compare import Accumulator, smallest_passing, tolerance_checks
from ..data import coverage_batches, dataset_batches, random_batches
from ..errors import BadInput, GateFailed
from ..manifest import ShapeMap, input_names, is_classification, output_names
from ..model_loading import load_model
from ..paths import existing_file
from ..reference import device_name, resolve_device
from ..runners import Runner, in_order
from ..runners.onnxruntime import OnnxRuntimeRunner
from ..runners.pytorch import TorchRunner
from ._backend import require_known, require_tensorrt_importable, tensorrt_runner


def shape_summary(shape: ShapeMap, acc: Accumulator) -> dict[str, Any]:
    """One line of the report's ``byShape``: the samples run at ``shape`` and their statistics."""
    stats = acc.stats()
    line: dict[str, Any] = {"shape": shape, "samples": acc.n, "maxAbs": stats["maxAbs"], "meanAbs": stats["meanAbs"]}
    if "top1" in stats:
        line["top1"] = stats["top1"]["rate"]
    return line


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs parity; raises :class:`GateFailed` when a tolerance is not met or an output is not finite."""
    started = time.perf_counter()
    manifest, backend, precision = request["manifest"], request["backend"], request["precision"]
    require_known(backend, "parity")
    tolerance = manifest["parity"]["tolerances"].get(precision)
    if not tolerance:
        raise BadInput(
            f"the manifest has no parity tolerance for {precision}",
            field=f"manifest.parity.tolerances.{precision}",
            hint=f"add parity.tolerances.{precision}: {{ maxAbs: ..., minTop1Agreement: ... }}",
        )
    repo = request["repoDir"]
    ckpt = existing_file(repo, request["checkpointPath"], field="checkpointPath", what="checkpoint")
    engine_path = existing_file(repo, request["enginePath"], field="enginePath", what="engine")
    tensorrt = backend == "tensorrt"
    if tensorrt:
        require_tensorrt_importable()
    device = resolve_device(request.get("referenceDevice"), need_cuda=tensorrt)
    classification, outputs, names = is_classification(manifest), output_names(manifest), input_names(manifest)
    reference = TorchRunner(load_model(repo, manifest, ckpt), device, names, outputs)
    engine: Runner = tensorrt_runner(str(engine_path), device) if tensorrt else OnnxRuntimeRunner(engine_path)
    engine_device = str(device) if tensorrt else "cpu"
    subset = None
    if manifest["parity"]["data"]["kind"] == "dataset":
        batches, data, total, subset = dataset_batches(request)
    else:
        batches, data, _ = random_batches(manifest)
        total = manifest["parity"]["samples"]
    acc = Accumulator(classification=classification, output_names=outputs)
    by_shape: dict[str, tuple[ShapeMap, Accumulator]] = {}

    def run_batch(feeds: dict[str, np.ndarray], labels: np.ndarray | None) -> None:
        shape = {k: list(v.shape) for k, v in feeds.items()}
        ref, eng = in_order(outputs, reference.run(feeds)), in_order(outputs, engine.run(feeds))
        acc.add(ref, eng, labels)
        key = json.dumps(shape, sort_keys=True)
        by_shape.setdefault(key, (shape, Accumulator(classification=classification, output_names=outputs)))[1].add(ref, eng, labels)

    for feeds, labels in batches:
        run_batch(feeds, labels)
        progress.report("parity", min(acc.n, total), total, f"{precision} on {backend}")
    if subset is not None:
        for shape, (feeds, labels) in coverage_batches(manifest, subset, [s for s, _ in by_shape.values()]):
            run_batch(feeds, labels)
            progress.report("parity", total, total, f"{precision} on {backend}: dataset samples fitted to {shape}")
    stats = acc.stats()
    nonfinite = {"reference": acc.nonfinite_ref, "engine": acc.nonfinite_eng}
    checks = tolerance_checks(tolerance, stats, nonfinite, outputs)
    report = {
        "backend": backend,
        "precision": precision,
        "samples": acc.n,
        "data": data,
        "shapes": [shape for shape, _ in by_shape.values()],
        "byShape": [shape_summary(shape, a) for shape, a in by_shape.values()],
        "stats": stats,
        "nonFinite": nonfinite,
        **({"quantization": levers} if (levers := int8_search.read_stamp(engine_path) if not tensorrt else None) else {}),
        "tolerance": {k: v for k, v in tolerance.items() if k != "outputs"},
        "outputTolerances": dict(tolerance.get("outputs") or {}),
        "checks": checks,
        "smallestPassingTolerance": smallest_passing(stats),
        "verdict": verdict(checks),
        "devices": {"reference": str(device), "referenceGpu": device_name(device), "engine": engine_device},
        "durationMs": (time.perf_counter() - started) * 1000,
    }
    if report["verdict"] == "fail":
        failed = ", ".join(f"{c['name']} {c['statistic']} !{c['op']} {c['threshold']}" for c in checks if not c["passed"])
        raise GateFailed(report, f"parity failed: {failed}")
    return report
