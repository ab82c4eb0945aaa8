"""``--workers N``: the runtime as N processes on the same ports, so that one Python interpreter
(its event loop, its GIL) is not the ceiling: the kernel spreads connections over the workers
(``SO_REUSEPORT``), and each worker loads every model itself (its own engine contexts and batchers).

This module is the supervisor, the process the user started:

1. it reserves the HTTP (and gRPC) port — bound, not listening, with ``SO_REUSEPORT`` — so a port
   of 0 becomes one number every worker binds, and a port in use is reported before anything starts;
2. it starts the workers (``python -m modelship_toolkit.serve`` with the same flags, the resolved
   ports, and ``MODELSHIP_SERVE_WORKER=i/N`` in the environment), each of which loads its models,
   listens and prints its ``listening`` line with its private peer port;
3. it tells every worker, on its stdin, all the peer ports and a secret (cluster.py says what they
   are for), prints one ``listening`` line for the whole runtime, and waits.

SIGTERM/SIGINT stop every worker gracefully. A worker that dies takes the runtime down (exit 1),
rather than leaving a runtime whose workers disagree about what is loaded; the process manager
restarts it. A worker whose stdin closes (the supervisor is gone) stops too.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading

from .cluster import Cluster
from .stopping import StopFlag

log = logging.getLogger("modelship.serve")

#: The environment variable that makes ``python -m modelship_toolkit.serve`` one worker: ``i/N``.
WORKER_ENV = "MODELSHIP_SERVE_WORKER"
#: Longest time a worker is given to stop after SIGTERM, seconds.
STOP_GRACE_S = 30.0


def worker_cluster() -> Cluster | None:
    """This process's place among the runtime's workers (from :data:`WORKER_ENV`), else None.

    Raises:
        ValueError: the variable is set but is not ``i/N`` with ``0 <= i < N``.
    """
    value = os.environ.get(WORKER_ENV)
    if not value:
        return None
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise ValueError(f"{WORKER_ENV}: expected i/N with 0 <= i < N, got {value!r}")
    return Cluster(int(index), int(count))


def follow_supervisor(cluster: Cluster, stop: StopFlag) -> None:
    """In a worker, once it listens: reads its peers from stdin (a thread), then sets ``stop`` when
    stdin closes (the supervisor has gone) or the first line is not what the supervisor writes."""

    def read() -> None:
        line = sys.stdin.readline()
        try:
            told = json.loads(line)
            cluster.set_peers([int(p) for p in told["peers"]], str(told["secret"]))
        except (ValueError, KeyError, TypeError) as e:
            log.error("worker %d: expected the supervisor's peers on stdin, got %r (%s); stopping", cluster.index, line[:80], e)
            stop.set()
            return
        while sys.stdin.readline():
            pass
        stop.set()

    threading.Thread(target=read, name="supervisor-stdin", daemon=True).start()


def _reserve(host: str, port: int) -> socket.socket:
    """A socket bound to the port with ``SO_REUSEPORT`` and not listening: the port is the
    runtime's (and known, for port 0) while every worker binds it too."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class Supervisor:
    """Starts, watches and stops the workers of one runtime.

    Args:
        argv: the runtime's flags as given (each worker gets them, with the resolved ports).
        count: workers.
        host, port, grpc_port: what the flags say (ports may be 0).
    """

    def __init__(self, argv: list[str], count: int, host: str, port: int, grpc_port: int | None) -> None:
        self.argv, self.count = argv, count
        self._reserved = [_reserve(host, port)]
        try:
            if grpc_port is not None:
                self._reserved.append(_reserve(host, grpc_port))
        except OSError:
            self.close()
            raise
        self.host = host
        self.port = int(self._reserved[0].getsockname()[1])
        self.grpc_port = int(self._reserved[1].getsockname()[1]) if grpc_port is not None else None
        self.procs: list[subprocess.Popen[str]] = []
        #: The worker that did not start (:meth:`start` returned None), if one did not.
        self.failed: int | None = None

    def start(self, stop: StopFlag) -> dict | None:
        """Starts the workers and waits until each listens; returns the first worker's
        ``listening`` event, or None when one exited first or ``stop`` was set."""
        ports = ["--port", str(self.port)] + (["--grpc-port", str(self.grpc_port)] if self.grpc_port is not None else [])
        for i in range(self.count):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "modelship_toolkit.serve", *self.argv, *ports],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, WORKER_ENV: f"{i}/{self.count}"}))
        events: dict[int, dict] = {}
        with selectors.DefaultSelector() as sel:
            for i, proc in enumerate(self.procs):
                sel.register(proc.stdout, selectors.EVENT_READ, i)  # type: ignore[arg-type]
            while len(events) < self.count:
                if stop.is_set():
                    return None
                for key, _ in sel.select(StopFlag.POLL_S):
                    i = key.data
                    line = self.procs[i].stdout.readline()  # type: ignore[union-attr]
                    sel.unregister(key.fileobj)
                    try:
                        event = json.loads(line) if line else {}
                    except ValueError:
                        event = {}
                    if event.get("event") != "listening":
                        self.failed = i
                        if line:
                            log.error("worker %d printed %r instead of its listening line", i, line[:200])
                        return None
                    events[i] = event
        told = json.dumps({"peers": [events[i]["peerPort"] for i in range(self.count)], "secret": secrets.token_hex(16)}) + "\n"
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(told)
            proc.stdin.flush()
        return events[0]

    def first_exit(self) -> tuple[int, int] | None:
        """(worker, exit code) of a worker that has exited, else None."""
        for i, proc in enumerate(self.procs):
            code = proc.poll()
            if code is not None:
                return i, code
        return None

    def stop(self) -> None:
        """SIGTERM (once) to every worker still running; SIGKILL to those not gone after
        :data:`STOP_GRACE_S`."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.close()

    def close(self) -> None:
        """Lets go of the reserved ports."""
        for sock in self._reserved:
            sock.close()


def supervise(argv: list[str], count: int, host: str, port: int, grpc_port: int | None) -> int:
    """Runs the runtime as ``count`` workers until SIGTERM/SIGINT (0) or a worker's death (1);
    2 when the ports cannot be had or a worker cannot start (its own error is on stderr)."""
    try:
        sup = Supervisor(argv, count, host, port, grpc_port)
    except OSError as e:
        print(f"error: cannot listen on {host}:{port}{f' (gRPC {grpc_port})' if grpc_port is not None else ''}: {e}", file=sys.stderr)
        return 2
    stop = StopFlag().install()
    try:
        first = sup.start(stop)
        if first is None:
            if stop.is_set():
                return 0
            print(f"error: worker {sup.failed} of {count} did not start; see its error above", file=sys.stderr)
            return 2
        print(json.dumps({"event": "listening", "host": host, "port": sup.port, "grpcPort": sup.grpc_port, "models": first["models"],
                          "workers": count, "pids": [p.pid for p in sup.procs]}), flush=True)
        while not stop.wait(0.5):
            exited = sup.first_exit()
            if exited is not None:
                log.error("worker %d of %d exited with code %d; stopping the runtime (its workers would disagree about what is loaded)",
                          exited[0], count, exited[1])
                return 1
        return 0
    finally:
        sup.stop()
