"""Settings of the serving runtime (the CLI flags of ``python -m modelship_toolkit.serve``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServeConfig:
    """Batching, queueing and lifecycle settings, shared by every variant."""

    #: Most rows stacked into one batch (capped by the model's batch max); None: per model, from its
    #: package's bench.json (see tuning.py).
    max_batch_size: int | None = None
    #: How long the first request of a batch waits for others, milliseconds; None: per model, at
    #: most one batch's measured run time (see tuning.py).
    batch_window_ms: float | None = None
    #: Most requests waiting per variant; beyond it requests get 503 with Retry-After.
    max_queue: int = 256
    #: Per-request deadline, milliseconds; past it the request gets 504.
    request_timeout_ms: float = 2000.0
    #: Retry-After seconds sent with 503.
    retry_after_s: int = 1
    #: How long a promoted-over stable stays loaded as "previous" (for an instant rollback).
    previous_grace_s: float = 300.0
    #: ONNX Runtime intra-op threads (0: its default).
    intra_op_threads: int = 0
    #: Execution contexts per TensorRT engine, each running batches from its own thread and CUDA
    #: stream, so one batch's copies overlap another's compute (ONNX Runtime and PyTorch: always 1).
    engine_instances: int = 2
    #: Serve the system shared memory extension (``v2/systemsharedmemory``); only for co-located,
    #: trusted clients: a registered region makes the server read and write that object.
    shared_memory: bool = False
    #: Largest request body, bytes (a JSON body takes many times its size in memory while parsed).
    max_body_bytes: int = 16 << 20
    #: Longest wait for any read from a client (request line, headers, body), seconds; also the
    #: idle keep-alive timeout.
    read_timeout_s: float = 10.0
    #: Longest time to receive a whole request body, seconds (a client trickling bytes is cut off).
    body_timeout_s: float = 30.0
    #: Most connections served at once; beyond it a connection gets 503 and is closed.
    max_connections: int = 256
