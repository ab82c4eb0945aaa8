"""TensorRT data types → torch dtypes, without importing ``tensorrt``.

A ``tensorrt.DataType`` member is looked up by its ``.name`` (``FLOAT``, ``HALF``, ...), so this
module works (and is tested) on hosts without TensorRT.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

#: ``tensorrt.DataType`` member name → torch dtype attribute name. FP8 needs torch ≥ 2.1;
#: INT4/FP4 (packed sub-byte types) have no torch dtype and are refused.
TENSORRT_TO_TORCH: dict[str, str] = {
    "FLOAT": "float32",
    "HALF": "float16",
    "BF16": "bfloat16",
    "INT8": "int8",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
    "UINT8": "uint8",
    "FP8": "float8_e4m3fn",
}


def _name(trt_dtype: Any) -> str:
    if isinstance(trt_dtype, str):
        name = trt_dtype
    else:
        name = getattr(trt_dtype, "name", None) or str(trt_dtype)
    return name.rsplit(".", 1)[-1].upper()


def torch_dtype_for(trt_dtype: Any) -> torch.dtype:
    """The torch dtype for a ``tensorrt.DataType`` (or its name, e.g. ``"HALF"``/``"DataType.HALF"``).

    Raises:
        TypeError: for a type torch cannot hold (INT4, FP4, or FP8 on an old torch).
    """
    name = _name(trt_dtype)
    attr = TENSORRT_TO_TORCH.get(name)
    if attr is None:
        raise TypeError(f"TensorRT data type {name} has no torch equivalent (known: {', '.join(TENSORRT_TO_TORCH)})")
    dtype = getattr(torch, attr, None)
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"TensorRT data type {name} needs torch.{attr}, which torch {torch.__version__} does not have")
    return dtype


def torch_dtype_of(dtype: Any) -> torch.dtype:
    """The torch dtype of a numpy dtype."""
    return torch.from_numpy(np.empty(0, dtype)).dtype


def numpy_dtype_of(dtype: torch.dtype) -> np.dtype:
    """The numpy dtype of a torch dtype."""
    return torch.empty(0, dtype=dtype).numpy().dtype
