"""``bench`` (step 5): warm-up, then timed runs per input shape on the engine."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import progress
from ..errors import BadInput
from ..hostinfo import cores, cpu_model, peak_rss_bytes
from ..latency import summarize_ns
from ..manifest import ShapeMap, batch_of, coverage_shapes, random_inputs
from ..paths import existing_file
from ..runners import Runner
from ..runners.onnxruntime import OnnxRuntimeRunner
from ._backend import require_onnxruntime_cpu

BENCH_SEED = 0


def bench_shapes(manifest: dict[str, Any]) -> list[ShapeMap]:
    """Returns ``benchmark.shapes``, or the min, opt, max and mid shapes when it is not set."""
    shapes = manifest["benchmark"].get("shapes")
    if not shapes:
        return coverage_shapes(manifest)
    names = {spec["name"] for spec in manifest["inputs"]}
    for i, shape in enumerate(shapes):
        missing = names - set(shape)
        if missing:
            raise BadInput(
                f"benchmark.shapes[{i}] gives no shape for input(s) {sorted(missing)}",
                field=f"manifest.benchmark.shapes[{i}]",
                hint="give every input's full shape in each entry",
            )
    return [{k: list(v) for k, v in s.items()} for s in shapes]


def time_shape(runner: Runner, feeds: dict[str, np.ndarray], warmup: int, iterations: int) -> list[int]:
    """Runs ``warmup`` untimed runs, then returns the duration in ns of each of ``iterations`` runs."""
    for _ in range(warmup):
        runner.run(feeds)
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter_ns()
        runner.run(feeds)
        out.append(time.perf_counter_ns() - t0)
    return out


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs bench on the engine at each shape; returns the benchmark report."""
    started = time.perf_counter()
    manifest, backend, precision = request["manifest"], request["backend"], request["precision"]
    require_onnxruntime_cpu(backend, "bench")  # tensorrt: trtexec --loadEngine on the GPU worker
    engine = existing_file(None, request["enginePath"], field="enginePath", what="engine")
    warmup, iterations = manifest["benchmark"]["warmup"], manifest["benchmark"]["iterations"]
    runner = OnnxRuntimeRunner(engine)
    threads = runner.threads
    rng = np.random.default_rng(BENCH_SEED)
    shapes = bench_shapes(manifest)
    results = []
    for i, shape in enumerate(shapes):
        progress.report("bench", i, len(shapes), f"timing {shape}")
        feeds = random_inputs(manifest, shape, rng)
        times = time_shape(runner, feeds, warmup, iterations)
        batch = batch_of(shape, manifest)
        results.append({
            "shape": shape,
            "batch": batch,
            "latencyMs": summarize_ns(times),
            "throughputPerSec": batch * iterations / (sum(times) / 1e9),
        })
    progress.report("bench", len(shapes), len(shapes), "done")
    return {
        "backend": backend,
        "precision": precision,
        "warmup": warmup,
        "iterations": iterations,
        "shapes": results,
        "peakMemoryBytes": peak_rss_bytes(),
        "threads": threads,
        "host": {"cpu": cpu_model(), "cores": cores()},
        "durationMs": (time.perf_counter() - started) * 1000,
    }
