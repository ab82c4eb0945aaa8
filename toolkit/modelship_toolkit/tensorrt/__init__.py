"""TensorRT engines from Python: a runner on the TensorRT 10 named-tensor API.

Importing this package does not import ``tensorrt``; :class:`~.runner.TensorRTRunner` does, when
it is constructed, so CPU-only hosts can import the toolkit.
"""
from __future__ import annotations

from .dtypes import TENSORRT_TO_TORCH, torch_dtype_for
from .runner import TensorInfo, TensorRTRunner, TensorRTUnavailableError, import_tensorrt

__all__ = ["TENSORRT_TO_TORCH", "TensorInfo", "TensorRTRunner", "TensorRTUnavailableError", "import_tensorrt", "torch_dtype_for"]
