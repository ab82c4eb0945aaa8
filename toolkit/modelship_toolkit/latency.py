"""Latency statistics of timed runs (milliseconds)."""
from __future__ import annotations

import numpy as np


def summarize_ns(samples_ns: list[int]) -> dict[str, float]:
    """Returns ``{p50, p95, p99, mean, min, max}`` in milliseconds of durations in nanoseconds."""
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "min": float(ms.min()),
        "max": float(ms.max()),
    }
