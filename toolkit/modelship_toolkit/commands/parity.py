"""``parity`` (step 4): the PyTorch reference vs the engine on ≥ 1000 fixed-seed or dataset samples."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import int8_search, progress
from ..checks import verdict
from ..compare import Accumulator, smallest_passing, tolerance_checks
from ..data import Dataset, fit_to_shape, load_npz
from ..errors import BadInput, GateFailed
from ..manifest import ShapeMap, batch_of, coverage_shapes, input_names, is_classification, output_names, random_inputs
from ..model_loading import load_model
from ..paths import existing_file
from ..reference import TorchReference, device_name, resolve_device
from ..runtime import ort_run, ort_session
from ._backend import require_known, require_tensorrt_importable, tensorrt_runner

Batch = tuple[dict[str, np.ndarray], np.ndarray | None]


def dataset_batches(request: dict[str, Any]) -> tuple[Iterator[Batch], dict[str, Any], int, Dataset]:
    """Returns (batches, data record, samples, the samples): the first N of a seeded permutation of the file."""
    manifest = request["manifest"]
    spec = manifest["parity"]
    data = load_npz(request["repoDir"], spec["data"], manifest, field="manifest.parity.data")
    n = spec["samples"]
    if len(data) < n:
        raise BadInput(
            f"{data.path} holds {len(data)} samples, parity.samples asks for {n}",
            field="manifest.parity.data.path",
            hint=f"add samples to {spec['data']['path']} or lower manifest.parity.samples to at most {len(data)} "
            "(it must stay >= 1000)",
        )
    subset = data.take(np.random.default_rng(spec["seed"]).permutation(len(data))[:n])
    batch_dim = manifest["inputs"][0]["dims"][0]
    size = min(max(spec["batchSize"], batch_dim["min"]), batch_dim["max"])

    def gen() -> Iterator[Batch]:
        for start in range(0, n, size):
            feeds = {k: v[start : start + size] for k, v in subset.inputs.items()}
            yield feeds, None if subset.labels is None else subset.labels[start : start + size]

    return gen(), {"kind": "dataset", "seed": spec["seed"], "path": str(data.path)}, n, subset


def random_batches(manifest: dict[str, Any]) -> tuple[Iterator[Batch], dict[str, Any], list[ShapeMap]]:
    """Returns (batches, data record, shapes): seeded random inputs cycling through min, opt, max and
    mid shapes until ``parity.samples`` samples have run (the last batch is cut to fit when it can)."""
    spec = manifest["parity"]
    shapes = coverage_shapes(manifest)
    rng = np.random.default_rng(spec["seed"])
    first = manifest["inputs"][0]["dims"][0]

    def gen() -> Iterator[Batch]:
        done, i = 0, 0
        while done < spec["samples"]:
            shape = {k: list(v) for k, v in shapes[i % len(shapes)].items()}
            left = spec["samples"] - done
            if isinstance(first, dict) and batch_of(shape, manifest) > left >= first["min"]:
                for spec_in in manifest["inputs"]:  # cut the batch dim of every input sharing it
                    d0 = spec_in["dims"][0]
                    if isinstance(d0, dict) and d0["name"] == first["name"]:
                        shape[spec_in["name"]][0] = left
            feeds = random_inputs(manifest, shape, rng, spec["data"].get("distribution", "normal"))
            done += batch_of(shape, manifest)
            i += 1
            yield feeds, None

    return gen(), {"kind": "random", "seed": spec["seed"]}, shapes


def shape_summary(shape: ShapeMap, acc: Accumulator) -> dict[str, Any]:
    """One line of the report's ``byShape``: the samples run at ``shape`` and their statistics."""
    stats = acc.stats()
    line: dict[str, Any] = {"shape": shape, "samples": acc.n, "maxAbs": stats["maxAbs"], "meanAbs": stats["meanAbs"]}
    if "top1" in stats:
        line["top1"] = stats["top1"]["rate"]
    return line


def coverage_batches(manifest: dict[str, Any], subset: Dataset, seen: list[ShapeMap]) -> Iterator[tuple[ShapeMap, Batch]]:
    """Batches at every min/opt/max/mid shape the dataset pass did not run: dataset samples brought to
    each shape (see :func:`fit_to_shape`)."""
    start = 0
    for shape in coverage_shapes(manifest):
        if shape in seen:
            continue
        rows = batch_of(shape, manifest)
        index = np.arange(start, start + rows) % len(subset)
        start += rows
        feeds = {name: fit_to_shape(subset.inputs[name][index], shape[name]) for name in subset.inputs}
        yield shape, (feeds, None)  # labels of resized or cut samples would mislead the accuracies


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
    reference = TorchReference(load_model(repo, manifest, ckpt), device)
    if tensorrt:
        runner = tensorrt_runner(str(engine_path), device)
        out_names = [o["name"] for o in manifest["outputs"]]

        def engine_run(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            out = runner.infer_numpy(feeds)
            return [out[n] for n in out_names]

        engine_device = str(device)
    else:
        session = ort_session(engine_path)

        def engine_run(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            return ort_run(session, feeds)

        engine_device = "cpu"
    classification, outputs = is_classification(manifest), output_names(manifest)
    subset = None
    if manifest["parity"]["data"]["kind"] == "dataset":
        batches, data, total, subset = dataset_batches(request)
    else:
        batches, data, _ = random_batches(manifest)
        total = manifest["parity"]["samples"]
    names = input_names(manifest)
    acc = Accumulator(classification=classification, output_names=outputs)
    by_shape: dict[str, tuple[ShapeMap, Accumulator]] = {}

    def run_batch(feeds: dict[str, np.ndarray], labels: np.ndarray | None) -> None:
        shape = {k: list(v.shape) for k, v in feeds.items()}
        ref, eng = reference.run(feeds, names), engine_run(feeds)
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
