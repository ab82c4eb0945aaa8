"""The serving runtime as one object: the fleet of models, the data plane over it, and its front
ends — HTTP (rest.py under uvicorn, http_server.py) and, when asked for, gRPC (grpc_server.py) —
both on one uvloop event loop in a thread of their own (the batchers have theirs).

    server = create_server(config, port=8100, grpc_port=8101, admin_token=...)
    server.start_background()   # both front ends accept requests once this returns
    server.stop()               # stops accepting, finishes answers in flight, unloads every model
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

import uvloop

from .cluster import Cluster
from .config import ServeConfig
from .dataplane import DataPlane
from .fleet import Fleet
from .http_server import HttpFrontEnd
from .rest import RestApp

log = logging.getLogger("modelship.serve")


@dataclass
class App:
    """What the front ends share: the data plane (and through it the fleet) and the admin token."""

    plane: DataPlane
    admin_token: str | None

    @property
    def fleet(self) -> Fleet:
        """Every model this runtime serves."""
        return self.plane.fleet

    @property
    def config(self) -> ServeConfig:
        """The runtime's settings."""
        return self.plane.config


class ModelServer:
    """The runtime's front ends over one :class:`App`. The HTTP port is bound at construction, the
    gRPC port when serving starts.

    Args:
        cluster: this process is one of several workers sharing the ports (``--workers``).
    """

    def __init__(self, app: App, host: str, port: int, grpc_port: int | None = None, cluster: Cluster | None = None) -> None:
        self.app = app
        self.cluster = cluster
        self.http = HttpFrontEnd(RestApp(app.plane, app.admin_token, cluster), app.config, host, port, reuse_port=cluster is not None)
        self.grpc = None
        if grpc_port is not None:
            from .grpc_server import GrpcFrontEnd  # grpcio loads only when gRPC is served

            self.grpc = GrpcFrontEnd(app.plane, app.config, host, grpc_port, cluster=cluster)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The HTTP port (useful with port 0)."""
        return self.http.port

    @property
    def grpc_port(self) -> int | None:
        """The gRPC port, once serving (None without gRPC)."""
        return self.grpc.port if self.grpc else None

    def start_background(self) -> None:
        """Starts the event loop thread; returns once every front end accepts requests.

        Raises:
            OSError: the gRPC port cannot be bound (or anything else that stopped serving).
        """
        self._thread = threading.Thread(target=self._run, name="serve-loop", daemon=True)
        self._thread.start()
        while not self.http.started:
            if not self._thread.is_alive():
                self.http.close()
                raise self._error or RuntimeError("the serving loop stopped during startup")
            self._thread.join(0.01)

    def _run(self) -> None:
        try:
            uvloop.run(self._serve())
        except BaseException as e:  # noqa: BLE001 - start_background() re-raises it
            self._error = e
            if self.http.started:
                log.exception("the serving loop failed")

    @property
    def peer_port(self) -> int | None:
        """The worker's private port (``--workers``), else None."""
        return self.http.peer_port

    async def _serve(self) -> None:
        if self.cluster is not None:
            self.cluster.bind_loop(asyncio.get_running_loop())
        if self.grpc:
            await self.grpc.start()
        try:
            await self.http.serve()
        finally:
            if self.grpc:
                await self.grpc.stop()

    def stop(self) -> None:
        """Stops the front ends (answers in flight get 5 s), unloads every variant and lets go of
        the shared memory regions."""
        self.http.request_stop()
        if self._thread is not None:
            self._thread.join(15)
        self.http.close()
        self.app.fleet.close()
        self.app.plane.shm.close()


def create_server(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8100, admin_token: str | None = None,
                  model_name: str | None = None, stable_package: str | None = None, grpc_port: int | None = None,
                  cluster: Cluster | None = None) -> ModelServer:
    """Builds a server for any number of models (only ``model_name`` when given), loading
    ``stable_package`` first when given (raises PackageError when it cannot be served, OSError when
    the HTTP port cannot be bound). ``grpc_port`` also serves gRPC (0: an ephemeral port; bound by
    :meth:`ModelServer.start_background`). ``cluster``: one of several workers (workers.py)."""
    fleet = Fleet(config, model_name)
    if stable_package:
        fleet.load("stable", stable_package)
    try:
        return ModelServer(App(DataPlane(config, fleet), admin_token), host, port, grpc_port, cluster)
    except BaseException:
        fleet.close()
        raise
