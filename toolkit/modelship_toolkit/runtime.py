"""Running the two sides of every comparison: the PyTorch reference and an ONNX Runtime session."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .errors import BadInput


def cpu_threads() -> int:
    """Returns the cores this process may run on (its CPU affinity), the thread count sessions use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ort_session(path: str | Path, *, threads: int | None = None, field: str = "enginePath"):
    """Opens an ONNX Runtime CPU session with an explicit intra-op thread count.

    A model ONNX Runtime cannot load is :class:`BadInput` on ``field``.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or cpu_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - ORT raises its own Fail/InvalidGraph types
        raise BadInput(
            f"ONNX Runtime cannot load {path}: {str(err).splitlines()[0]}",
            field=field,
            hint="rebuild the engine with the toolkit's build command",
        ) from None


def ort_run(session, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Runs a session on named inputs; returns its outputs in the session's order."""
    return session.run(None, feeds)


def torch_run(model: torch.nn.Module, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
    """Runs the PyTorch model on named inputs (positional in ``names`` order) without gradients."""
    with torch.no_grad():
        out = model(*[torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in names])
    if isinstance(out, torch.Tensor):
        out = (out,)
    elif isinstance(out, dict):
        out = tuple(out.values())
    return [o.detach().cpu().numpy() for o in out]
