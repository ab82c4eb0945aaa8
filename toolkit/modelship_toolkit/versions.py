"""Versions of the libraries a result was made with."""
from __future__ import annotations

import importlib
import platform


def version_of(module: str) -> str | None:
    """Returns ``module.__version__``, or None when the module is not installed or fails to import."""
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:  # noqa: BLE001 - a broken install counts as absent
        return None


def python() -> str:
    """Returns the Python version, e.g. ``3.11.2``."""
    return platform.python_version()


def versions(*modules: str) -> dict[str, str]:
    """Returns ``{module: version}`` for those of ``modules`` that are installed."""
    return {m: v for m in modules if (v := version_of(m)) is not None}


def torch_version_tuple() -> tuple[int, int]:
    """Returns torch's (major, minor), e.g. (1, 13) for ``1.13.0a0``."""
    import torch

    major, minor = torch.__version__.split("+")[0].split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
