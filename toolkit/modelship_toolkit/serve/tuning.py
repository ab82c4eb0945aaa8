"""Batching settings per model, from the package's own ``bench.json`` (the benchmark step measured
the engine's throughput at batch 1, the profile's opt and its max on the target hardware).

The largest batch is where throughput stops paying for latency: the smallest measured batch within
:data:`SATURATION` of the best measured throughput. A model whose throughput saturates at 32 gains
nothing from batches of 256 but their latency; a GPU engine that keeps gaining gets its max.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A batch within this fraction of the best measured throughput counts as saturated.
SATURATION = 0.9
#: The largest batch when neither the operator nor the package's benchmark says.
DEFAULT_MAX_BATCH = 32


@dataclass(frozen=True)
class BatchChoice:
    """The largest batch a variant stacks, and where that number came from."""

    size: int
    source: str


def _measured(bench: Any) -> list[tuple[int, float]]:
    points = []
    for s in bench.get("shapes", []) if isinstance(bench, dict) else []:
        batch, rate = s.get("batch") if isinstance(s, dict) else None, s.get("throughputPerSec") if isinstance(s, dict) else None
        if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0 and isinstance(rate, (int, float)) and rate > 0:
            points.append((batch, float(rate)))
    return sorted(points)


def choose_max_batch(package_root: Path, model_max_rows: int, configured: int | None) -> BatchChoice:
    """The operator's ``--max-batch-size`` when given, else the saturation point of the package's
    ``bench.json``, else :data:`DEFAULT_MAX_BATCH`; never above the model's batch max."""
    if configured is not None:
        return BatchChoice(max(1, min(configured, model_max_rows)), "--max-batch-size")
    try:
        points = _measured(json.loads((package_root / "bench.json").read_text()))
    except (OSError, ValueError):
        points = []
    if not points:
        return BatchChoice(max(1, min(DEFAULT_MAX_BATCH, model_max_rows)), "default (no usable bench.json)")
    best = max(rate for _, rate in points)
    batch, rate = next((b, r) for b, r in points if r >= SATURATION * best)
    return BatchChoice(max(1, min(batch, model_max_rows)), f"bench.json: {rate:,.0f}/s at batch {batch}, {rate / best:.0%} of the best measured")
