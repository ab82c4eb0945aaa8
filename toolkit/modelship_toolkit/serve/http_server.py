"""Runs the HTTP front end (rest.py) under uvicorn on uvloop with the httptools parser, on its own
thread and event loop.

uvicorn's HTTP protocol gets three guards it lacks and a runtime that faces the network needs:

- a deadline for a request's headers (``read_timeout_s`` from the connection's start or the end of
  the previous answer): a client that connects and sends nothing, or trickles its headers, is cut
  off — uvicorn only times out idle connections *after* an answer;
- at most ``max_connections`` connections: one more gets a JSON 503 and is closed;
- unparsable requests get a JSON 400, like every other answer of the runtime.

The body's own deadline and size limit are the application's (rest.py).
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import ServeConfig
from .rest import RestApp

log = logging.getLogger("modelship.serve")


def _raw_json_answer(status: int, reason: str, error: str, extra: bytes = b"") -> bytes:
    body = orjson.dumps({"error": error})
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n".encode()
            + extra + b"connection: close\r\n\r\n" + body)


class _OneWriteTransport:
    """Hands uvicorn's two writes of an answer (head, then body) to the socket as one, as the
    answer is small and a second syscall (and TCP segment) per request is a tenth of the cost of
    serving it. A head not followed by its body in the same loop iteration is flushed anyway."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._t, self._loop = transport, loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is None and data.startswith(b"HTTP/1.1 "):
            self._head = data
            self._loop.call_soon(self._flush)
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._t.write(data)

    def _flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._t.is_closing():
                self._t.write(head)

    def close(self) -> None:
        self._flush()
        self._t.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a connection limit and JSON 400s."""

    serve_config: ServeConfig  # set on the subclass made per server (see :func:`protocol_for`)

    _refused = False
    #: Loop time since which the connection waits for a request's headers (None: not waiting).
    _waiting_since: float | None = None
    #: The sweeper closing connections whose headers are late (one per server, started lazily).
    _sweeper: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.serve_config.max_connections:
            self._refused = True
            transport.write(_raw_json_answer(503, "Service Unavailable", "too many connections; retry later", b"retry-after: 1\r\n"))
            transport.close()
            return
        super().connection_made(transport)
        self.transport = _OneWriteTransport(transport, self.loop)  # type: ignore[assignment]
        self._waiting_since = self.loop.time()
        cls = type(self)
        if cls._sweeper is None:
            cls._sweeper = self.loop.call_later(self._sweep_interval(), self._sweep)

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting_since = None
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._waiting_since = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle is not None and self.cycle.response_complete:
            self._waiting_since = self.loop.time()  # the next request's headers have the same deadline

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_raw_json_answer(400, "Bad Request", f"not an HTTP/1.1 request: {msg}"))
        self.transport.close()

    def _sweep_interval(self) -> float:
        return max(0.05, self.serve_config.read_timeout_s / 4)

    def _sweep(self) -> None:
        """Closes every connection that has waited longer than ``read_timeout_s`` for headers (one
        timer for all connections, instead of one per request)."""
        now, limit = self.loop.time(), self.serve_config.read_timeout_s
        for conn in list(self.connections):
            since = getattr(conn, "_waiting_since", None)
            if since is not None and now - since > limit and not conn.transport.is_closing():
                conn.transport.close()
        type(self)._sweeper = self.loop.call_later(self._sweep_interval(), self._sweep)


def protocol_for(config: ServeConfig) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for one server's settings."""
    return type("ServeHttpProtocol", (GuardedHttpToolsProtocol,), {"serve_config": config})


def _listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


class HttpFrontEnd:
    """The uvicorn server. Its socket is bound at construction (so the port, even port 0, is known
    and errors surface to the caller); :meth:`serve` runs it on the current event loop.

    Args:
        reuse_port: share the port with the runtime's other workers (``SO_REUSEPORT``), and also
            listen on a private loopback port of this worker's own (:attr:`peer_port`).
    """

    def __init__(self, app: RestApp, config: ServeConfig, host: str, port: int, *, reuse_port: bool = False) -> None:
        self.sock = _listening_socket(host, port, reuse_port=reuse_port)
        self.port = int(self.sock.getsockname()[1])
        self.sockets = [self.sock]
        #: The worker's private port, on which the other workers reach it (``--workers``), else None.
        self.peer_port: int | None = None
        if reuse_port:
            try:
                peer = _listening_socket("127.0.0.1", 0)
            except OSError:
                self.sock.close()
                raise
            self.sockets.append(peer)
            self.peer_port = int(peer.getsockname()[1])
        uv_config = uvicorn.Config(
            app, loop="none", http=protocol_for(config), ws="none", lifespan="off", log_level="warning",
            access_log=False, timeout_keep_alive=max(1, int(config.read_timeout_s)), server_header=False, date_header=False,
            backlog=1024, timeout_graceful_shutdown=5, proxy_headers=False,
        )
        self.server = uvicorn.Server(uv_config)

    @property
    def started(self) -> bool:
        """True once it accepts connections."""
        return bool(self.server.started)

    async def serve(self) -> None:
        """Serves until :meth:`request_stop`, then lets answers in flight finish (5 s at most)."""
        await self.server.serve(sockets=self.sockets)

    def request_stop(self) -> None:
        """Asks :meth:`serve` to return (from any thread)."""
        self.server.should_exit = True

    def close(self) -> None:
        """Closes the listening sockets."""
        for sock in self.sockets:
            sock.close()
