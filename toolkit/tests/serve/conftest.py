"""Fixtures of the serve tests: release packages built from a tiny torch model, and real servers
on ephemeral loopback ports."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # toolkit/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_harness import TOKEN, Client  # noqa: E402
from serve_pkgbuild import build_package  # noqa: E402

from modelship_toolkit.serve import ServeConfig, create_server  # noqa: E402


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1 (seed 0), v2 (same weights, new version), v3 (other weights), slow (fallback-only, 0.3 s/forward)."""
    base = tmp_path_factory.mktemp("pkgs")
    return {
        "v1": build_package(base / "v1", version="v1.0.0", seed=0),
        "v2": build_package(base / "v2", version="v2.0.0", seed=0),
        "v3": build_package(base / "v3", version="v3.0.0", seed=7),
        "slow": build_package(base / "slow", version="slow-1", seed=0, init={"delay_s": 0.3}, with_engine=False),
        "other-v1": build_package(base / "other-v1", version="v1.0.0", seed=3, name="other"),
        "other-v2": build_package(base / "other-v2", version="v2.0.0", seed=5, name="other"),
    }


@pytest.fixture
def make_server(packages: dict[str, Path]) -> Iterator[Any]:
    """Starts servers (stable = a package, by key or path) and stops them after the test."""
    started = []

    def make(stable: str | Path | None = "v1", model_name: str | None = "digits", grpc: bool = False, **cfg: Any):
        config = ServeConfig(**{"batch_window_ms": 2.0, "request_timeout_ms": 5000.0, **cfg})
        path = packages[stable] if isinstance(stable, str) else stable
        srv = create_server(config, host="127.0.0.1", port=0, admin_token=TOKEN, model_name=model_name, stable_package=str(path) if path else None,
                            grpc_port=0 if grpc else None)
        srv.start_background()
        started.append(srv)
        return srv, Client(srv.port)

    yield make
    for s in started:
        s.stop()
