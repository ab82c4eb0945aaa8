"""``doctor``: what this host has (CPU, memory, Python, library versions, CUDA devices, ORT providers)."""
from __future__ import annotations

from typing import Any

from .. import progress
from ..gpu import cuda
from ..hostinfo import host
from ..versions import python, version_of

LIBRARIES = ("torch", "onnx", "onnxruntime", "numpy", "tensorrt", "onnxscript")


def ort_providers() -> list[str]:
    """Returns ONNX Runtime's available execution providers (empty when it is not installed)."""
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except ImportError:
        return []


def nvml_readable() -> bool:
    """True when pynvml imports and NVML initialises (a driver is loaded)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:  # noqa: BLE001 - absent module or no driver
        return False


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs doctor; it never fails on a missing library, it reports it as None."""
    progress.report("doctor", 0, 1, "looking at the host")
    result = {
        "host": host(),
        "python": python(),
        "versions": {lib: version_of(lib) for lib in LIBRARIES},
        "cuda": cuda(),
        "onnxruntimeProviders": ort_providers(),
        "tensorrt": {"version": version_of("tensorrt"), "nvml": nvml_readable()},
    }
    progress.report("doctor", 1, 1, "done")
    return result
