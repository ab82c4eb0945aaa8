"""``parity`` (step 4): the PyTorch reference vs the engine on ≥ 1000 fixed-seed or dataset samples."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import progress
from ..checks import check, verdict
from ..compare import TOLERANCES, Accumulator, smallest_passing, statistic
from ..data import load_npz
from ..errors import BadInput, GateFailed
from ..manifest import ShapeMap, batch_of, coverage_shapes, input_names, is_classification, random_inputs
from ..model_loading import load_model
from ..paths import existing_file
from ..reference import TorchReference, device_name, resolve_device
from ..runtime import ort_run, ort_session
from ._backend import require_known, require_tensorrt_importable, tensorrt_runner

Batch = tuple[dict[str, np.ndarray], np.ndarray | None]


def dataset_batches(request: dict[str, Any]) -> tuple[Iterator[Batch], dict[str, Any], int]:
    """Returns (batches, data record, samples): the first N of a seeded permutation of the file."""
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

    return gen(), {"kind": "dataset", "seed": spec["seed"], "path": str(data.path)}, n


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


def tolerance_checks(tolerance: dict[str, float], stats: dict[str, Any], nonfinite: dict[str, int]) -> list[dict[str, Any]]:
    """Returns one check per manifest tolerance, plus the two no-NaN/Inf checks."""
    checks = [
        check("nonFinite.reference", float(nonfinite["reference"]), "==", 0, "NaN/Inf in the PyTorch reference outputs"),
        check("nonFinite.engine", float(nonfinite["engine"]), "==", 0, "NaN/Inf in the engine outputs (FP16 overflow? keep sensitive layers in FP32)"),
    ]
    for name, threshold in tolerance.items():
        path, op = TOLERANCES[name]
        value = statistic(stats, path)
        detail = f"stats.{path} {op} {name}" if value is not None else f"stats.{path} is not available (task is not classification?)"
        checks.append(check(name, value, op, threshold, detail))
    return checks


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
    if manifest["parity"]["data"]["kind"] == "dataset":
        batches, data, total = dataset_batches(request)
    else:
        batches, data, _ = random_batches(manifest)
        total = manifest["parity"]["samples"]
    shapes_seen: list[ShapeMap] = []
    names = input_names(manifest)
    acc = Accumulator(classification=is_classification(manifest))
    for feeds, labels in batches:
        shape = {k: list(v.shape) for k, v in feeds.items()}
        if shape not in shapes_seen:
            shapes_seen.append(shape)
        acc.add(reference.run(feeds, names), engine_run(feeds), labels)
        progress.report("parity", min(acc.n, total), total, f"{precision} on {backend}")
    stats = acc.stats()
    nonfinite = {"reference": acc.nonfinite_ref, "engine": acc.nonfinite_eng}
    checks = tolerance_checks(tolerance, stats, nonfinite)
    report = {
        "backend": backend,
        "precision": precision,
        "samples": acc.n,
        "data": data,
        "shapes": shapes_seen,
        "stats": stats,
        "nonFinite": nonfinite,
        "tolerance": dict(tolerance),
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
