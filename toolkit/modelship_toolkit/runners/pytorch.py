"""The PyTorch runner: the parity reference on the CPU or a CUDA GPU, and the serving runtime's
fallback when an engine cannot load.

On CUDA the model and inputs live on the device, work runs on torch's current stream (the one
TensorRTRunner enqueues on, so both sides order correctly on one GPU), and TF32 is turned off: an
FP32 reference must be FP32 arithmetic, or FP32 parity would measure TF32 rounding instead of the
engine.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from . import Arrays, NamedIO


class TorchRunner(NamedIO):
    """A model on one device that runs named numpy inputs (positional, in ``input_names`` order).

    Args:
        model: the loaded model (moved to ``device`` and put in eval mode here).
        device: where it runs.
        input_names: the manifest's inputs, in forward()'s order.
        output_names: the manifest's outputs, in forward()'s order (a model returning a dict keeps its keys).
    """

    kind = "pytorch"

    def __init__(self, model: torch.nn.Module, device: torch.device | str, input_names: Sequence[str], output_names: Sequence[str]) -> None:
        self.device = torch.device(device)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.model: torch.nn.Module | None = model.to(self.device).eval()
        super().__init__(input_names, output_names)

    def run(self, feeds: Mapping[str, np.ndarray]) -> Arrays:
        """Runs the model without gradients; a read-only input (request bytes) is copied first."""
        assert self.model is not None, "run after close"
        with torch.no_grad():
            if self.device.type == "cuda":
                with torch.cuda.device(self.device):
                    out = self.model(*self._args(feeds))
                    torch.cuda.current_stream(self.device).synchronize()
            else:
                out = self.model(*self._args(feeds))
        if isinstance(out, Mapping):
            return {str(k): v.detach().cpu().numpy() for k, v in out.items()}
        values = _as_tuple(out)
        names = self._outputs + [f"output_{i}" for i in range(len(self._outputs), len(values))]
        return {n: v.detach().cpu().numpy() for n, v in zip(names, values, strict=False)}

    def _args(self, feeds: Mapping[str, np.ndarray]) -> list[torch.Tensor]:
        return [torch.from_numpy(np.require(feeds[n], requirements=["C", "W"])).to(self.device) for n in self._inputs]

    def close(self) -> None:
        """Drops the model."""
        self.model = None


def _as_tuple(out: Any) -> tuple[torch.Tensor, ...]:
    if isinstance(out, torch.Tensor):
        return (out,)
    return tuple(out)
