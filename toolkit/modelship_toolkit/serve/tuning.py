"""Batching settings per model, from the package's own ``bench.json`` (the benchmark step measured
the engine's throughput at batch 1, the profile's opt and its max on the target hardware).

The largest batch is where throughput stops paying for latency: the smallest measured batch within
:data:`SATURATION` of the best measured throughput. A model whose throughput saturates at 32 gains
nothing from batches of 256 but their latency; a GPU engine that keeps gaining gets its max.

The batching window (how long a batch's first request waits for company) is at most the time one
such batch takes to run (its measured p50): waiting longer cannot pay, as the engine could have run
a whole batch in that time, and requests that arrive while a batch runs make the next batch anyway.
digits on 2 vCPU runs a batch of 32 in 0.16 ms; with the old fixed 2 ms window two workers served
15.9 k requests/s, with 0.16 ms about 20 k (bench/results/serve-cpu-2026-12-01-window.json).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A batch within this fraction of the best measured throughput counts as saturated.
SATURATION = 0.9
#: The largest batch when neither the operator nor the package's benchmark says.
DEFAULT_MAX_BATCH = 32
#: The batching window when the operator does not say, and the most a measured one may be, ms.
DEFAULT_WINDOW_MS = 5.0


@dataclass(frozen=True)
class BatchChoice:
    """The largest batch a variant stacks, and where that number came from."""

    size: int
    source: str


def _measured(package_root: Path, value: Callable[[dict], Any]) -> list[tuple[int, float]]:
    """(batch, value) for each shape the package's ``bench.json`` measured with a positive number
    there, by batch; none when the file is missing or broken."""
    try:
        bench = json.loads((package_root / "bench.json").read_text())
    except (OSError, ValueError):
        return []
    points = []
    for s in bench.get("shapes", []) if isinstance(bench, dict) else []:
        if not isinstance(s, dict):
            continue
        batch, v = s.get("batch"), value(s)
        if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0 and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            points.append((batch, float(v)))
    return sorted(points)


def choose_max_batch(package_root: Path, model_max_rows: int, configured: int | None) -> BatchChoice:
    """The operator's ``--max-batch-size`` when given, else the saturation point of the package's
    ``bench.json``, else :data:`DEFAULT_MAX_BATCH`; never above the model's batch max."""
    if configured is not None:
        return BatchChoice(max(1, min(configured, model_max_rows)), "--max-batch-size")
    points = _measured(package_root, lambda s: s.get("throughputPerSec"))
    if not points:
        return BatchChoice(max(1, min(DEFAULT_MAX_BATCH, model_max_rows)), "default (no usable bench.json)")
    best = max(rate for _, rate in points)
    batch, rate = next((b, r) for b, r in points if r >= SATURATION * best)
    return BatchChoice(max(1, min(batch, model_max_rows)), f"bench.json: {rate:,.0f}/s at batch {batch}, {rate / best:.0%} of the best measured")


@dataclass(frozen=True)
class WindowChoice:
    """How long a batch's first request waits for company, and where that number came from."""

    ms: float
    source: str


def choose_window(package_root: Path, batch_size: int, configured_ms: float | None) -> WindowChoice:
    """The operator's ``--batch-window-ms`` when given, else the p50 latency that the package's
    ``bench.json`` measured for a batch of ``batch_size`` (the smallest measured batch at least that
    big, else the largest) capped at :data:`DEFAULT_WINDOW_MS`, else :data:`DEFAULT_WINDOW_MS`."""
    if configured_ms is not None:
        return WindowChoice(max(0.0, configured_ms), "--batch-window-ms")
    timed = _measured(package_root, lambda s: s["latencyMs"].get("p50") if isinstance(s.get("latencyMs"), dict) else None)
    if not timed:
        return WindowChoice(DEFAULT_WINDOW_MS, "default (no batch latency in bench.json)")
    batch, p50 = next(((b, t) for b, t in timed if b >= batch_size), timed[-1])
    return WindowChoice(round(min(DEFAULT_WINDOW_MS, p50), 4), f"bench.json: a batch of {batch} runs in {p50:.3g} ms (p50)")
