"""Writes the QDQ model ONNX Runtime's quantizer makes with its defaults (UINT8 activations, INT32
biases behind DequantizeLinear): the form TensorRT's ONNX parser refuses. Only for the failure
fixture of scripts/gpu/h200-releases.ts; modelship's own quantizer (toolkit quantize.py) writes
the form TensorRT accepts.

    python ort-default-qdq.py <model.onnx> <calibration.npz (array x)> <out.onnx>
"""
from __future__ import annotations

import sys

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static


class Reader(CalibrationDataReader):
    """256 samples of ``x`` in batches of 32, fed as the model's first input."""

    def __init__(self, path: str, name: str) -> None:
        x = np.load(path)["x"][:256].astype(np.float32)
        self.batches = iter([{name: x[i : i + 32]} for i in range(0, len(x), 32)])

    def get_next(self):
        return next(self.batches, None)


def main() -> None:
    import onnx

    src, data, dst = sys.argv[1:4]
    name = onnx.load(src).graph.input[0].name
    quantize_static(src, dst, Reader(data, name), quant_format=QuantFormat.QDQ)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
