"""The operator census and watch list on small hand-built ONNX graphs."""
from __future__ import annotations

from onnx import TensorProto, helper

from modelship_toolkit.onnx_info import DYNAMIC_SLICE, operator_census, watch_list


def _model(nodes, inits=()):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4]), helper.make_tensor_value_info("s", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_watch_list_flags_delicate_ops_and_dynamic_slices():
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [3])
    nodes = [
        helper.make_node("Softplus", ["x"], ["a"]),
        helper.make_node("Slice", ["a", "s", "ends"], ["b"]),  # starts come from an input: dynamic
        helper.make_node("Relu", ["b"], ["y"]),
    ]
    model = _model(nodes, [ends])
    assert operator_census(model) == {"Relu": 1, "Slice": 1, "Softplus": 1}
    ops = {w["op"]: w for w in watch_list(model)}
    assert set(ops) == {"Softplus", DYNAMIC_SLICE}
    assert "explicit activation" in ops["Softplus"]["advice"]


def test_constant_slices_are_not_flagged():
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [3])
    model = _model([helper.make_node("Slice", ["x", "starts", "ends"], ["y"])], [starts, ends])
    assert watch_list(model) == []
