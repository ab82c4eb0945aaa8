"""Tensor element types, named once: the manifest's dtype names, their numpy types, and the Open
Inference Protocol's datatypes (TensorRT's own enum is mapped in ``tensorrt/dtypes.py``)."""
from __future__ import annotations

from typing import Any

import numpy as np

#: Manifest dtype → numpy type (the types a manifest may declare).
NUMPY_OF_MANIFEST: dict[str, Any] = {
    "float32": np.float32,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
}

#: Manifest dtype → Open Inference Protocol v2 datatype.
V2_OF_MANIFEST: dict[str, str] = {
    "float32": "FP32",
    "float16": "FP16",
    "int64": "INT64",
    "int32": "INT32",
    "uint8": "UINT8",
    "bool": "BOOL",
}

#: V2 datatype → numpy type (the ones a request may carry: the manifest's and a few more).
NUMPY_OF_V2: dict[str, Any] = {
    **{V2_OF_MANIFEST[m]: t for m, t in NUMPY_OF_MANIFEST.items()},
    "FP64": np.float64,
    "INT16": np.int16,
    "INT8": np.int8,
}


def manifest_dtype(dtype: np.dtype[Any], default: str = "float32") -> str:
    """The manifest's name of a numpy dtype (``default`` for one a manifest cannot declare)."""
    return next((m for m, t in NUMPY_OF_MANIFEST.items() if np.dtype(t) == dtype), default)
