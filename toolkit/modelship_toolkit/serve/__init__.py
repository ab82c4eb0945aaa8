"""modelship's serving runtime: release packages behind the Open Inference Protocol v2, with
dynamic micro-batching, stable/candidate/shadow variants, Prometheus metrics and an admin API.

    python -m modelship_toolkit.serve --port 8100 --admin-token-file token.txt --stable-package pkg/

See README.md beside this file.
"""
from .config import ServeConfig
from .package import PackageError, ReleasePackage, load_package
from .server import ModelServer, create_server

__all__ = ["ServeConfig", "PackageError", "ReleasePackage", "load_package", "ModelServer", "create_server"]
