"""The serving runtime as one object: the fleet of models, the data plane over it, and its front
ends — HTTP (rest.py under uvicorn, http_server.py) and, when asked for, gRPC (grpc_server.py).

    server = create_server(config, port=8100, grpc_port=8101, admin_token=...)
    server.start_background()   # both front ends accept requests once this returns
    server.stop()               # stops accepting, finishes answers in flight, unloads every model
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import ServeConfig
from .dataplane import DataPlane
from .fleet import Fleet
from .http_server import HttpFrontEnd
from .rest import RestApp


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
    """The runtime's front ends over one :class:`App`; ports are bound at construction."""

    def __init__(self, app: App, host: str, port: int, grpc_port: int | None = None) -> None:
        self.app = app
        self.http = HttpFrontEnd(RestApp(app.plane, app.admin_token), app.config, host, port)
        self.grpc = None
        if grpc_port is not None:
            from .grpc_server import GrpcFrontEnd  # grpcio loads only when gRPC is served

            try:
                self.grpc = GrpcFrontEnd(app.plane, app.config, host, grpc_port)
            except BaseException:
                self.http.stop()
                raise

    @property
    def port(self) -> int:
        """The HTTP port (useful with port 0)."""
        return self.http.port

    @property
    def grpc_port(self) -> int | None:
        """The gRPC port, when gRPC is served."""
        return self.grpc.port if self.grpc else None

    def start_background(self) -> None:
        """Starts every front end; returns once they accept requests."""
        if self.grpc:
            self.grpc.start()
        self.http.start()

    def stop(self) -> None:
        """Stops the front ends and unloads every variant."""
        self.http.stop()
        if self.grpc:
            self.grpc.stop()
        self.app.fleet.close()


def create_server(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8100, admin_token: str | None = None,
                  model_name: str | None = None, stable_package: str | None = None, grpc_port: int | None = None) -> ModelServer:
    """Builds a server for any number of models (only ``model_name`` when given), loading
    ``stable_package`` first when given (raises PackageError when it cannot be served, OSError when
    a port cannot be bound). ``grpc_port`` also serves gRPC (0: an ephemeral port)."""
    fleet = Fleet(config, model_name)
    if stable_package:
        fleet.load("stable", stable_package)
    try:
        return ModelServer(App(DataPlane(config, fleet), admin_token), host, port, grpc_port)
    except BaseException:
        fleet.close()
        raise
