"""The explicit-quantization (QDQ) form TensorRT's ONNX parser accepts, checked on a written model.

TensorRT 10 builds INT8 engines from QuantizeLinear/DequantizeLinear pairs when the graph has:

- INT8 zero points (all zero: symmetric) on every Q/DQ node; a missing zero point means UINT8 and
  a UINT8 zero point is refused ("TensorRT doesn't support QuantizeLinear/DequantizeLinear with
  UINT8 zero_point", seen on TensorRT 10.6 on an H200);
- float biases: a DequantizeLinear feeding the bias input of Conv/ConvTranspose/Gemm is refused
  ("only activation types allowed as input to this layer", same run);
- quantized constants only as weights: a DequantizeLinear of a constant may feed Conv,
  ConvTranspose, Gemm or MatMul; one feeding anything else (a GELU's ``+ 1`` into an Add) is an
  internal error of the builder ("Quantized constant is only allowed before DQ or PLUGIN",
  ``qdqGraphOptimizer.cpp``, TensorRT 10.6 on an H200, on the regression example's GELU);
- at least one Q/DQ pair: a model without them would be an FP32 network under ``--int8`` and,
  without a calibration cache, trtexec would calibrate it on random data.

:func:`tensorrt_qdq_problems` lists what breaks these rules; the build refuses a model that has any.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from onnx import ModelProto, TensorProto, numpy_helper

QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
"""The explicit-quantization operators."""

BIAS_INPUT = {"Conv": 2, "ConvTranspose": 2, "Gemm": 2}
"""Operators with a bias input, and its index."""

WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
"""The operators whose inputs are quantized (activations and weights): TensorRT's explicit
quantization runs these in INT8; everything between them stays in float, as NVIDIA's placement
guidance has it."""


def _constants(model: ModelProto) -> dict[str, TensorProto]:
    """Initializers and Constant-node values by tensor name."""
    out = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    out[node.output[0]] = attr.t
    return out


def qdq_census(model: ModelProto) -> dict[str, Any]:
    """Counts of Q/DQ nodes and their zero-point element types (``{"QuantizeLinear": n, ..., "zeroPointTypes": {...}}``)."""
    consts = _constants(model)
    counts: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for node in model.graph.node:
        if node.op_type not in QDQ_OPS:
            continue
        counts[node.op_type] += 1
        zp = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        types[TensorProto.DataType.Name(zp.data_type) if zp is not None else "absent (UINT8)"] += 1
    return {"QuantizeLinear": counts["QuantizeLinear"], "DequantizeLinear": counts["DequantizeLinear"], "zeroPointTypes": dict(types)}


def tensorrt_qdq_problems(model: ModelProto) -> list[str]:
    """What in ``model`` TensorRT's ONNX parser would refuse, or build as something else than asked.

    Returns an empty list for a QDQ model in the form TensorRT consumes.
    """
    consts = _constants(model)
    problems: list[str] = []
    dq_outputs: dict[str, str] = {}
    qdq_nodes = 0
    for node in model.graph.node:
        if node.op_type not in QDQ_OPS:
            continue
        qdq_nodes += 1
        name = node.name or node.output[0]
        if node.op_type == "DequantizeLinear":
            dq_outputs[node.output[0]] = name
        zp_name = node.input[2] if len(node.input) > 2 else ""
        zp = consts.get(zp_name) if zp_name else None
        if zp is None:
            problems.append(f"{node.op_type} {name}: no constant zero point (defaults to UINT8); TensorRT needs an INT8 zero point")
            continue
        if zp.data_type != TensorProto.INT8:
            problems.append(f"{node.op_type} {name}: zero point is {TensorProto.DataType.Name(zp.data_type)}; TensorRT needs INT8")
        elif np.any(numpy_helper.to_array(zp) != 0):
            problems.append(f"{node.op_type} {name}: zero point is not 0 (asymmetric); TensorRT needs symmetric quantization")
    if qdq_nodes == 0:
        problems.append("no QuantizeLinear/DequantizeLinear nodes: this is not an explicitly quantized model")
    quantized_constants = {dq.output[0]: dq.name or dq.output[0] for dq in model.graph.node
                           if dq.op_type == "DequantizeLinear" and dq.input[0] in consts}
    for node in model.graph.node:
        if node.op_type in WEIGHTED_OPS or node.op_type in QDQ_OPS:
            continue
        for i in node.input:
            if i in quantized_constants:
                problems.append(f"{node.op_type} {node.name or node.output[0]}: takes the quantized constant from {quantized_constants[i]}; "
                                "TensorRT quantizes constants only as weights of Conv, ConvTranspose, Gemm and MatMul")
    for node in model.graph.node:
        index = BIAS_INPUT.get(node.op_type)
        if index is not None and len(node.input) > index and node.input[index] in dq_outputs:
            problems.append(
                f"{node.op_type} {node.name or node.output[0]}: its bias comes from DequantizeLinear "
                f"{dq_outputs[node.input[index]]}; TensorRT needs float biases"
            )
    return problems
