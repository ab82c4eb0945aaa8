"""Reading an ONNX model: its opset, inputs and outputs, operator census and watch list."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import onnx

WATCH_LIST: dict[str, str] = {
    "GridSample": "grid_sample is unsupported or restricted in some TensorRT versions: precompute the sampling "
    "grid/warp outside the model, or provide a TensorRT plugin.",
    "NonMaxSuppression": "NMS comes in many ONNX variants: use TensorRT's BatchedNMS/EfficientNMS plugin or run NMS "
    "as CPU post-processing.",
    "Resize": "F.interpolate is sensitive to mode and align_corners: state both explicitly and prefer nearest or "
    "bilinear; compare outputs closely in parity.",
    "Upsample": "Upsample is deprecated in ONNX (use F.interpolate with explicit mode/align_corners so it exports as "
    "Resize); parity may differ at borders.",
    "Mish": "Mish had conversion problems in older exporters/TensorRT: use an explicit activation module (recent "
    "TensorRT handles it) and check parity.",
    "Softplus": "Softplus (often from Mish = x*tanh(softplus(x))) had conversion problems in older TensorRT: use an "
    "explicit activation module and check parity.",
    "LayerNormalization": "LayerNorm operator mapping had issues: raise the opset/torch version, keep it in FP32 for "
    "FP16 engines, or use a plugin.",
    "Loop": "Data-dependent control flow makes shape handling complex: make it regular (padding/masks) or fix the path "
    "before export.",
    "If": "Data-dependent branching makes shape handling complex: remove it (masks instead of branches) or fix the "
    "path before export.",
    "Scan": "Scan is recurrent control flow: unroll or make the sequence length static where you can.",
    "NonZero": "NonZero has a data-dependent output shape: replace it with masks so shapes stay static.",
}
"""Operators from the seed checklist's §7 table (unsupported or delicate in TensorRT), with advice."""

DYNAMIC_SLICE = "Slice (dynamic starts/ends)"
DYNAMIC_SLICE_ADVICE = (
    "Slicing with starts/ends computed at run time makes shape handling complex: make shapes regular "
    "(padding/masks) or slice with constants."
)


def all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Yields every node of a graph, including those inside If/Loop/Scan subgraphs."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from all_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from all_nodes(g)


def operator_census(model: onnx.ModelProto) -> dict[str, int]:
    """Returns ``{op_type: count}`` over all nodes (domain-qualified when not the default domain)."""
    counts = Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}" for n in all_nodes(model.graph)
    )
    return dict(sorted(counts.items()))


def _constant_names(graph: onnx.GraphProto) -> set[str]:
    """Names of tensors known when the graph is built: initializers and Constant outputs."""
    names = {t.name for t in graph.initializer}
    names.update(o for n in graph.node if n.op_type == "Constant" for o in n.output)
    return names


def watch_list(model: onnx.ModelProto) -> list[dict[str, Any]]:
    """Returns the delicate operators the model uses, with the seed checklist's advice for each."""
    census = operator_census(model)
    items = [{"op": op, "count": census[op], "advice": advice} for op, advice in WATCH_LIST.items() if op in census]
    constants = _constant_names(model.graph)
    dynamic = sum(
        1 for n in model.graph.node if n.op_type == "Slice" and any(i and i not in constants for i in n.input[1:3])
    )
    if dynamic:
        items.append({"op": DYNAMIC_SLICE, "count": dynamic, "advice": DYNAMIC_SLICE_ADVICE})
    return items


def _shape(value: onnx.ValueInfoProto) -> list[int | str]:
    dims = value.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]


def io(model: onnx.ModelProto) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Returns the graph's (inputs, outputs) as ``[{name, shape}]``, initializers excluded."""
    inits = {t.name for t in model.graph.initializer}
    inputs = [{"name": v.name, "shape": _shape(v)} for v in model.graph.input if v.name not in inits]
    outputs = [{"name": v.name, "shape": _shape(v)} for v in model.graph.output]
    return inputs, outputs


def default_opset(model: onnx.ModelProto) -> int:
    """Returns the opset of the default ONNX domain the model declares."""
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    raise ValueError("model declares no default-domain opset")
