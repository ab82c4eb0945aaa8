"""Shared guards: which backend a command serves here, and the TensorRT runner for tensorrt."""
from __future__ import annotations

from ..errors import BadInput


def require_onnxruntime_cpu(backend: str, command: str) -> None:
    """Raises :class:`BadInput` on ``backend`` unless it is ``onnxruntime-cpu``."""
    if backend == "tensorrt":
        raise BadInput(
            f"{command} for backend tensorrt is run by the GPU worker with trtexec (activities/tensorrt), not by the toolkit",
            field="backend",
            hint="route tensorrt targets to the GPU task queue named by the target's architecture (modelship worker --gpu)",
            type="UnsupportedBackend",
        )
    require_known(backend, command)


def require_known(backend: str, command: str) -> None:
    """Raises :class:`BadInput` unless ``backend`` is onnxruntime-cpu or tensorrt."""
    if backend not in ("onnxruntime-cpu", "tensorrt"):
        raise BadInput(
            f"{command} supports backends onnxruntime-cpu and tensorrt, not {backend}",
            field="backend",
            hint="use backend onnxruntime-cpu, or tensorrt on a GPU worker",
            type="UnsupportedBackend",
        )


def tensorrt_runner(engine_path: str, device):
    """Opens a TensorRT engine on ``device``; no tensorrt module or no GPU is :class:`BadInput`.

    The worker that got a tensorrt step cannot run it, and retrying there cannot help.
    """
    from ..tensorrt.runner import TensorRTRunner, TensorRTUnavailableError

    require_tensorrt_importable()
    try:
        return TensorRTRunner(engine_path, device=device)
    except TensorRTUnavailableError as err:
        raise BadInput(str(err), field="backend", type="TensorRTUnavailable") from None
    except RuntimeError as err:
        raise BadInput(
            f"cannot load the TensorRT engine {engine_path}: {err}",
            field="enginePath",
            hint="engines only load on the GPU architecture and TensorRT version that built them; rebuild on this worker",
            type="EngineIncompatible",
        ) from None


def require_tensorrt_importable() -> None:
    """Raises the ``tensorrt is not installed on this worker`` :class:`BadInput` early (before loading a model)."""
    from ..tensorrt.runner import TensorRTUnavailableError, import_tensorrt

    try:
        import_tensorrt()
    except TensorRTUnavailableError as err:
        raise BadInput(
            f"tensorrt is not installed on this worker: {err}",
            field="backend",
            hint="run tensorrt targets on a GPU worker built from docker/Dockerfile.gpu-worker (TensorRT + CUDA)",
            type="TensorRTUnavailable",
        ) from None
