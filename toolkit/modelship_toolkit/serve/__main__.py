"""``python -m modelship_toolkit.serve``: starts the serving runtime.

Prints one JSON line ``{"event": "listening", "host", "port", "grpcPort", "models"}`` once it
accepts requests (use ``--port 0`` / ``--grpc-port 0`` for ephemeral ports); with ``--workers N``,
once all N workers do, adding ``workers`` and their ``pids`` (workers.py). Exits 2 on bad flags or
an unservable stable package. SIGTERM / SIGINT stop it gracefully.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from ..runners.onnxruntime import cpu_threads
from .admin import read_token
from .config import ServeConfig
from .package import PackageError
from .server import create_server
from .stopping import StopFlag
from .workers import follow_supervisor, supervise, worker_cluster


def _count(low: int, high: int):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> int:
        n = int(text) if text.strip().isdigit() else 0
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {text!r}")
        return n
    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The CLI flags."""
    d = ServeConfig()
    p = argparse.ArgumentParser(prog="python -m modelship_toolkit.serve", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100, help="HTTP port (Open Inference Protocol REST, /metrics, /admin)")
    p.add_argument("--grpc-port", type=int, help="also serve the Open Inference Protocol over gRPC on this port (default: no gRPC)")
    p.add_argument("--admin-token-file", help="file holding the admin bearer token (else env MODELSHIP_ADMIN_TOKEN)")
    p.add_argument("--stable-package", help="release package folder to serve as stable at start")
    p.add_argument("--candidate-package", help="release package folder to load as candidate at start (weight 0)")
    p.add_argument("--shadow-package", help="release package folder to load as shadow at start")
    p.add_argument("--model-name", help="serve this model only (default: every model whose package is loaded)")
    p.add_argument("--max-batch-size", type=int, default=d.max_batch_size,
                   help="most rows per batch (default: per model, where its package's bench.json says throughput saturates, else 32)")
    p.add_argument("--batch-window-ms", type=float, default=d.batch_window_ms,
                   help="how long a batch's first request waits for others (default: per model, the time its package's bench.json "
                        "measured for one batch, at most 5 ms)")
    p.add_argument("--max-queue", type=int, default=d.max_queue)
    p.add_argument("--timeout-ms", type=float, default=d.request_timeout_ms)
    p.add_argument("--previous-grace-s", type=float, default=d.previous_grace_s)
    p.add_argument("--intra-op-threads", type=int, default=d.intra_op_threads,
                   help="ONNX Runtime threads per session (default: ONNX Runtime's choice; with --workers N, the cores / N)")
    p.add_argument("--workers", type=_count(1, 64), default=1,
                   help="serving processes sharing the ports (SO_REUSEPORT), each loading every model; admin calls and shared memory "
                        "registrations apply to all, /metrics sums them (default %(default)s)")
    p.add_argument("--engine-instances", type=_count(1, 16), default=d.engine_instances,
                   help="execution contexts per TensorRT engine, each with its own batcher thread and CUDA stream (default %(default)s)")
    p.add_argument("--shared-memory", choices=("none", "system"), default="system" if d.shared_memory else "none",
                   help="serve the system shared memory extension (v2/systemsharedmemory): only for co-located, trusted clients")
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes)
    p.add_argument("--read-timeout-s", type=float, default=d.read_timeout_s)
    p.add_argument("--body-timeout-s", type=float, default=d.body_timeout_s)
    p.add_argument("--max-connections", type=int, default=d.max_connections)
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the server until SIGTERM/SIGINT (with ``--workers`` > 1: the supervisor of that many)."""
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    logging.basicConfig(level=a.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cluster = worker_cluster()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if cluster is None and a.workers > 1:
        # ONNX Runtime's default is a thread per core in each worker: N workers would run N times
        # as many threads as cores. Unless told, each worker gets its share of the cores.
        shared = [] if a.intra_op_threads else ["--intra-op-threads", str(max(1, cpu_threads() // a.workers))]
        return supervise([*argv, *shared], a.workers, a.host, a.port, a.grpc_port)
    try:
        token = read_token(a.admin_token_file)
    except (OSError, ValueError) as e:
        print(f"error: --admin-token-file: {e}", file=sys.stderr)
        return 2
    if token is None:
        logging.getLogger("modelship.serve").warning("no admin token (--admin-token-file or MODELSHIP_ADMIN_TOKEN): /admin is disabled")
    config = ServeConfig(max_batch_size=a.max_batch_size, batch_window_ms=a.batch_window_ms, max_queue=a.max_queue,
                         request_timeout_ms=a.timeout_ms, previous_grace_s=a.previous_grace_s, intra_op_threads=a.intra_op_threads,
                         max_body_bytes=a.max_body_bytes, read_timeout_s=a.read_timeout_s, body_timeout_s=a.body_timeout_s,
                         max_connections=a.max_connections, engine_instances=a.engine_instances,
                         shared_memory=a.shared_memory == "system")
    try:
        server = create_server(config, host=a.host, port=a.port, admin_token=token, model_name=a.model_name, stable_package=a.stable_package,
                               grpc_port=a.grpc_port, cluster=cluster)
        for role, path in (("candidate", a.candidate_package), ("shadow", a.shadow_package)):
            if path:
                server.app.fleet.load(role, path)
    except PackageError as e:
        print(f"error: cannot serve package: {e.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot listen on {a.host}:{a.port}{f' (gRPC {a.grpc_port})' if a.grpc_port is not None else ''}: {e}", file=sys.stderr)
        return 2
    stop = StopFlag().install()
    try:
        server.start_background()
    except OSError as e:
        server.app.fleet.close()
        print(f"error: cannot listen for gRPC on {a.host}:{a.grpc_port}: {e}", file=sys.stderr)
        return 2
    event = {"event": "listening", "host": a.host, "port": server.port, "grpcPort": server.grpc_port, "models": server.app.fleet.names()}
    if cluster is not None:
        event.update(worker=cluster.index, peerPort=server.peer_port, pid=os.getpid())
    print(json.dumps(event), flush=True)
    if cluster is not None:
        follow_supervisor(cluster, stop)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
