"""Static INT8 quantization to QDQ ONNX with ONNX Runtime's tools, calibrated on manifest data.

QDQ on the inputs of the weighted operators (Conv, ConvTranspose, Gemm, MatMul) with symmetric
INT8 activations, symmetric per-channel INT8 weights and float biases is the explicit-quantization
form TensorRT's ONNX parser accepts (see :mod:`.qdq_form`, checked after every
quantization), and ONNX Runtime runs the same model on CPU. ONNX Runtime's default quantizes biases
to INT32 behind a DequantizeLinear, which TensorRT 10 refuses ("only activation types allowed as
input to this layer"): biases stay float here.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import progress
from .buildlog import BuildLog
from .data import Dataset
from .qdq_form import WEIGHTED_OPS

if TYPE_CHECKING:
    from .int8_search import Levers

CALIBRATION_SEED = 0
"""Seed of the permutation that picks the calibration samples out of the calibration file."""

SETTINGS: dict[str, Any] = {
    "method": "static QDQ",
    "symmetric": True,
    "activationType": "QInt8",
    "weightType": "QInt8",
    "perChannel": True,
    "biases": "float",
    "quantizedOps": "Conv, ConvTranspose, Gemm, MatMul (their inputs; everything between stays float)",
}


class NpzReader:
    """A CalibrationDataReader over :class:`Dataset` s (one per input size), in batches, reporting progress."""

    def __init__(self, data: list[Dataset], batch: int) -> None:
        self.batches = [(d, s) for d in data for s in range(0, len(d), batch)]
        self.batch, self.pos = batch, 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        """Returns the next batch ``{input name: array}``, or None at the end."""
        if self.pos >= len(self.batches):
            return None
        data, start = self.batches[self.pos]
        self.pos += 1
        progress.report("build", self.pos, len(self.batches), "calibrating")
        return {k: v[start : start + self.batch] for k, v in data.inputs.items()}

    def rewind(self) -> None:
        """Starts again from the first batch."""
        self.pos = 0


def preprocess(src: Path, dst: Path, log: BuildLog) -> Path:
    """Runs ONNX Runtime's quantization pre-processing (shape inference, optimisation).

    Returns the pre-processed model, or ``src`` when the tool is unavailable or fails (logged).
    """
    try:
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        log("quantization pre-processing unavailable in this onnxruntime: quantizing the exported model as is")
        return src
    try:
        quant_pre_process(str(src), str(dst))
        log(f"quantization pre-processing (quant_pre_process): {dst.name}")
        return dst
    except Exception as err:  # noqa: BLE001 - pre-processing is an optimisation, not required
        log(f"quantization pre-processing failed ({type(err).__name__}: {err}); quantizing the exported model as is")
        return src


def quantize(src: Path, dst: Path, data: list[Dataset], batch: int, log: BuildLog, levers: Levers | None = None) -> None:
    """Writes the QDQ INT8 model of ``src`` to ``dst``, calibrated on all of ``data`` (one dataset
    per input size) with ``levers``
    (calibration method, per-channel weights, nodes kept in float; default min-max, per-channel)."""
    from .int8_search import Levers

    levers = levers or Levers()
    with _histograms_of_any_shape():
        _quantize_static(src, dst, data, batch, log, levers)


def _quantize_static(src: Path, dst: Path, data: list[Dataset], batch: int, log: BuildLog, levers: Levers) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    log(f"quantize_static: {SETTINGS}, levers {levers.describe()}, {sum(map(len, data))} calibration samples at {len(data)} input size(s) in batches of {batch}")
    quantize_static(
        str(src),
        str(dst),
        NpzReader(data, batch),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=levers.per_channel,
        calibrate_method=getattr(CalibrationMethod, levers.method),
        nodes_to_exclude=list(levers.keep_float),
        op_types_to_quantize=list(WEIGHTED_OPS),
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False,
                       # Q/DQ on the weighted operators' inputs only, not on their outputs (NVIDIA's placement).
                       "OpTypesToExcludeOutputQuantization": list(WEIGHTED_OPS)},
    )


def calibration_split(data: Dataset, samples: int) -> tuple[Dataset, Dataset]:
    """(``samples`` samples picked by a seeded permutation, the rest in permutation order)."""
    order = np.random.default_rng(CALIBRATION_SEED).permutation(len(data))
    return data.take(order[:samples]), data.take(order[samples:])


@contextlib.contextmanager
def _histograms_of_any_shape() -> Iterator[None]:
    """ONNX Runtime's histogram calibrators (percentile, entropy) stack each tensor's batches with
    ``np.asarray`` before flattening them, which fails when batches differ in shape (several input
    sizes, a short last batch). Flattening each batch first gives the same histogram."""
    from onnxruntime.quantization.calibrate import HistogramCollector

    original = HistogramCollector.collect

    def collect(self: Any, name_to_arr: dict[str, Any]) -> Any:
        flat = {k: np.concatenate([np.asarray(a).ravel() for a in v]) if isinstance(v, list) and v else v for k, v in name_to_arr.items()}
        return original(self, flat)

    HistogramCollector.collect = collect  # type: ignore[method-assign]
    try:
        yield
    finally:
        HistogramCollector.collect = original  # type: ignore[method-assign]
