"""Where parity's PyTorch reference runs: the CPU or a CUDA GPU (the runner itself is
:class:`~modelship_toolkit.runners.pytorch.TorchRunner`)."""
from __future__ import annotations

import torch

from .errors import BadInput

DEVICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    """True when torch sees at least one CUDA device."""
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver reads as no GPU
        return False


def resolve_device(requested: str | None, *, need_cuda: bool = False) -> torch.device:
    """Turns ``auto``/``cpu``/``cuda`` into a torch device.

    Raises:
        BadInput: ``cuda`` (or a backend that needs it) on a host where torch sees no GPU.
    """
    requested = requested or "auto"
    if requested not in DEVICES:
        raise BadInput(f"referenceDevice must be one of {', '.join(DEVICES)}, not {requested!r}", field="referenceDevice")
    if need_cuda and requested == "cpu":
        raise BadInput(
            "the tensorrt parity reference runs on the engine's GPU, not the CPU",
            field="referenceDevice",
            hint="leave referenceDevice unset (auto) or set it to cuda",
        )
    want_cuda = need_cuda or requested == "cuda" or (requested == "auto" and cuda_available())
    if not want_cuda:
        return torch.device("cpu")
    if not cuda_available():
        raise BadInput(
            f"torch {torch.__version__} sees no CUDA device on this worker (CUDA_VISIBLE_DEVICES={_visible()!r})",
            field="referenceDevice",
            hint="run this step on a GPU worker (modelship worker --gpu), or use referenceDevice cpu",
            type="NoGpu",
        )
    return torch.device("cuda", torch.cuda.current_device())


def _visible() -> str | None:
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES")


def device_name(device: torch.device) -> str | None:
    """The GPU's name for a CUDA device, None for the CPU."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else None
