"""Closed-loop HTTP load: C client threads, each with a keep-alive connection, sending one-sample
Open Inference Protocol requests back to back for a fixed time; latencies per request."""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoadResult:
    """What a load run measured."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict:
        """Throughput (requests/s) and latency percentiles."""
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.array([float("nan")])
        return {
            "requests": len(self.latencies_ms),
            "errors": self.errors,
            "throughputPerSec": len(self.latencies_ms) / self.seconds,
            "p50Ms": float(np.percentile(lat, 50)),
            "p99Ms": float(np.percentile(lat, 99)),
        }


def run_load(port: int, model: str, samples: np.ndarray, *, concurrency: int, seconds: float, input_name: str = "input") -> LoadResult:
    """Sends requests from ``concurrency`` threads for ``seconds``; each request is one sample."""
    bodies = [
        json.dumps({"inputs": [{"name": input_name, "shape": [1, *s.shape], "datatype": "FP32", "data": s.ravel().tolist()}]}).encode()
        for s in samples[:256]
    ]
    result = LoadResult(seconds=seconds)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        errors = 0
        i = k
        while time.perf_counter() < stop_at:
            body = bodies[i % len(bodies)]
            i += concurrency
            t0 = time.perf_counter()
            conn.request("POST", f"/v2/models/{model}/infer", body, {"content-type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                mine.append((time.perf_counter() - t0) * 1000)
            else:
                errors += 1
        conn.close()
        with lock:
            result.latencies_ms.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result
