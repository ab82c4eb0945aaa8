"""Strips what the exporter records about where it ran, so the same checkpoint exports to the same bytes.

The dynamo exporter (torch ≥ 2.9) writes per-node ``metadata_props`` and doc strings (stack traces,
module paths, source file names). The source file names hold the worker's scratch folder, which
differs per release, so two releases of one commit exported to different bytes: a different ONNX
sha256, and so a different engine-cache key — the re-release of an unchanged model on an H200
rebuilt every TensorRT engine. Neither TensorRT nor ONNX Runtime reads these fields; they also
leaked worker paths into the package.
"""
from __future__ import annotations

from onnx import GraphProto, ModelProto


def _strip_graph(graph: GraphProto) -> int:
    removed = 0
    for node in graph.node:
        removed += len(node.metadata_props) + (1 if node.doc_string else 0)
        del node.metadata_props[:]
        node.doc_string = ""
        for attr in node.attribute:
            if attr.HasField("g"):
                removed += _strip_graph(attr.g)
            for sub in attr.graphs:
                removed += _strip_graph(sub)
    for value in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        removed += len(value.metadata_props) if hasattr(value, "metadata_props") else 0
        if hasattr(value, "metadata_props"):
            del value.metadata_props[:]
    return removed


def strip_export_provenance(model: ModelProto) -> int:
    """Removes node-level metadata and doc strings in place (graph, subgraphs, functions); returns how many."""
    removed = _strip_graph(model.graph)
    for fn in model.functions:
        for node in fn.node:
            removed += len(node.metadata_props) + (1 if node.doc_string else 0)
            del node.metadata_props[:]
            node.doc_string = ""
    return removed
