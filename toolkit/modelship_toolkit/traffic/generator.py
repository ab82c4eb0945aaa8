"""Open-loop replay: request *i* is scheduled at ``start + i / rate`` whatever the server is doing
(a slow server does not slow the schedule down), sent from a thread pool over keep-alive
connections, and its latency is measured from its scheduled time (no coordinated omission)."""
from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..dtypes import NUMPY_OF_V2


@dataclass
class TrafficConfig:
    """What to send, where, and how fast."""

    url: str
    model: str
    data: str
    rate: float = 50.0
    duration: float = 30.0
    labels: bool = False
    x_array: str = "x"
    y_array: str = "y"
    input_name: str | None = None
    batch: int = 1
    id_prefix: str | None = "traffic"
    timeout: float = 10.0
    max_workers: int = 256
    #: Samples go out in a shuffled order drawn from this seed (None: in the file's order). Live
    #: traffic comes in no particular order; a file replayed in its own order puts neighbouring
    #: samples (say, the augmented copies of the hard ones) into one analysis window, and the two
    #: variants' halves of that window stop being a fair draw.
    shuffle_seed: int | None = 0


def send_order(n: int, seed: int | None) -> np.ndarray:
    """The order the ``n`` samples go out in, pass after pass: a permutation drawn from ``seed``, or
    the file's order when ``seed`` is None."""
    return np.random.default_rng(seed).permutation(n) if seed is not None else np.arange(n)


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


class _Sender:
    def __init__(self, cfg: TrafficConfig) -> None:
        u = urlparse(cfg.url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.timeout = cfg.timeout
        self.local = threading.local()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("POST", path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def _model_inputs(cfg: TrafficConfig) -> list[tuple[str, str]]:
    """The model's inputs as (name, OIP datatype): ``--input-name`` (FP32), else from its metadata."""
    if cfg.input_name:
        return [(cfg.input_name, "FP32")]
    u = urlparse(cfg.url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=cfg.timeout)
    try:
        conn.request("GET", f"/v2/models/{cfg.model}")
        r = conn.getresponse()
        meta = json.loads(r.read())
        if r.status != 200 or not meta.get("inputs"):
            raise RuntimeError(f"GET /v2/models/{cfg.model} answered {r.status}: {meta}")
        return [(str(i["name"]), str(i["datatype"])) for i in meta["inputs"]]
    finally:
        conn.close()


def _arrays(npz: Any, inputs: list[tuple[str, str]], cfg: TrafficConfig) -> dict[str, tuple[np.ndarray, str]]:
    """Each input's array (named as the input, or ``x_array`` for a model of one input) in its dtype."""
    out = {}
    for name, datatype in inputs:
        key = name if name in npz.files else cfg.x_array if len(inputs) == 1 else None
        if key is None or key not in npz.files:
            raise KeyError(f"{cfg.data} has no array for input '{name}' (arrays: {', '.join(npz.files)})")
        out[name] = (np.asarray(npz[key], dtype=NUMPY_OF_V2.get(datatype, np.float32)), datatype)
    return out


def run_traffic(cfg: TrafficConfig) -> dict[str, Any]:
    """Replays the dataset; returns the summary (sent, by status, latency percentiles, accuracy)."""
    inputs = _model_inputs(cfg)
    with np.load(cfg.data) as npz:
        arrays = _arrays(npz, inputs, cfg)
        y = np.asarray(npz[cfg.y_array]) if cfg.labels and cfg.y_array in npz else None
    if cfg.labels and y is None:
        raise KeyError(f"--labels: {cfg.data} has no array '{cfg.y_array}'")
    n = len(next(iter(arrays.values()))[0])
    order = send_order(n, cfg.shuffle_seed)
    sender = _Sender(cfg)
    path = f"/v2/models/{cfg.model}/infer"
    total = max(1, int(cfg.rate * cfg.duration))
    lock = threading.Lock()
    statuses: Counter[str] = Counter()
    variants: Counter[str] = Counter()
    latencies: list[float] = []
    labelled: Counter[str] = Counter()
    correct: Counter[str] = Counter()

    def send(i: int, scheduled: float) -> None:
        j = (i * cfg.batch) % n
        idx = [int(order[(j + k) % n]) for k in range(cfg.batch)]
        body: dict[str, Any] = {"inputs": [{"name": name, "shape": list(a[idx].shape), "datatype": datatype, "data": a[idx].reshape(-1).tolist()}
                                           for name, (a, datatype) in arrays.items()]}
        if cfg.id_prefix:
            body["id"] = f"{cfg.id_prefix}-{i}"
        headers = {"Content-Type": "application/json"}
        if y is not None:
            headers["x-modelship-label"] = ",".join(str(int(v)) for v in y[idx])
        try:
            status, hdrs, data = sender.post(path, json.dumps(body).encode(), headers)
        except Exception as e:  # noqa: BLE001 - counted, not fatal
            with lock:
                statuses[f"error:{type(e).__name__}"] += 1
            return
        latency = time.perf_counter() - scheduled
        variant = hdrs.get("x-modelship-variant", "unknown")
        ok = hit = 0
        if status == 200 and y is not None:
            out = json.loads(data)["outputs"][0]
            logits = np.asarray(out["data"], dtype=np.float64).reshape(out["shape"])
            pred = logits.reshape(logits.shape[0], -1).argmax(axis=1)
            ok, hit = len(pred), int(np.sum(pred == y[idx][: len(pred)]))
        with lock:
            statuses[str(status)] += 1
            variants[variant] += 1
            if status == 200:
                latencies.append(latency)
            labelled[variant] += ok
            correct[variant] += hit

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(cfg.max_workers, max(4, int(cfg.rate)))) as pool:
        for i in range(total):
            scheduled = start + i / cfg.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i, scheduled)
    elapsed = time.perf_counter() - start
    n_lab, n_ok = sum(labelled.values()), sum(correct.values())
    ms = [v * 1000 for v in latencies]
    return {
        "url": cfg.url,
        "model": cfg.model,
        "rate": cfg.rate,
        "duration_s": round(elapsed, 3),
        "sent": total,
        "by_status": dict(statuses),
        "by_variant": dict(variants),
        "latency_ms": {"p50": _percentile(ms, 50), "p90": _percentile(ms, 90), "p99": _percentile(ms, 99), "max": max(ms) if ms else None},
        "accuracy": (n_ok / n_lab) if n_lab else None,
        "accuracy_by_variant": {k: correct[k] / labelled[k] for k in labelled if labelled[k]},
        "labelled": n_lab,
    }
