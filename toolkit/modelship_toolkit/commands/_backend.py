"""Shared guard: the commands here serve the onnxruntime-cpu backend only."""
from __future__ import annotations

from ..errors import BadInput


def require_onnxruntime_cpu(backend: str, command: str) -> None:
    """Raises :class:`BadInput` on ``backend`` unless it is ``onnxruntime-cpu``."""
    if backend == "tensorrt":
        raise BadInput(
            f"{command} for backend tensorrt is handled by the GPU worker (modelship_toolkit.tensorrt), not here",
            field="backend",
            hint="route tensorrt targets to the GPU task queue named by the target's architecture",
            type="UnsupportedBackend",
        )
    if backend != "onnxruntime-cpu":
        raise BadInput(
            f"{command} supports backend onnxruntime-cpu here, not {backend}",
            field="backend",
            hint="use backend onnxruntime-cpu (tensorrt runs on the GPU worker)",
            type="UnsupportedBackend",
        )
