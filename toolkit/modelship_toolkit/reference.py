"""The PyTorch reference of parity, on the CPU or on a CUDA GPU.

On CUDA the model and inputs live on the device, work runs on torch's current stream (the same
stream TensorRTRunner enqueues on, so both sides order correctly on one GPU), and TF32 is turned
off for the reference: an FP32 reference must be FP32 arithmetic, or FP32 parity would measure
TF32 rounding instead of the engine.
"""
from __future__ import annotations

from typing import Any

import numpy as np
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


class TorchReference:
    """A model on one device that runs named numpy inputs and returns numpy outputs.

    Args:
        model: the loaded model (moved to ``device`` and put in eval mode here).
        device: where it runs.
    """

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.device = device
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.model = model.to(device).eval()

    def run(self, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        """Runs the model on ``feeds`` (positional in ``names`` order); outputs in forward()'s order."""
        with torch.no_grad():
            if self.device.type == "cuda":
                with torch.cuda.device(self.device):
                    stream = torch.cuda.current_stream(self.device)
                    args = [torch.from_numpy(np.ascontiguousarray(feeds[n])).to(self.device, non_blocking=False) for n in names]
                    out = self.model(*args)
                    stream.synchronize()
            else:
                out = self.model(*[torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in names])
        return [o.detach().cpu().numpy() for o in _as_tuple(out)]


def _as_tuple(out: Any) -> tuple[torch.Tensor, ...]:
    if isinstance(out, torch.Tensor):
        return (out,)
    if isinstance(out, dict):
        return tuple(out.values())
    return tuple(out)
