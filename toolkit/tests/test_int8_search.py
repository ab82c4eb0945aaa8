"""The INT8 lever search, on a small graph with a judge that knows which nodes must stay in float."""
from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from modelship_toolkit import int8_search


def _mlp(tmp_path: Path, layers: int = 8) -> Path:
    """x → Gemm 0 → Relu → … → Gemm n-1 → y, and a second head Gemm h from the last Relu → z."""
    nodes, inits, prev = [], [], "x"
    for i in range(layers):
        inits += [helper.make_tensor(f"w{i}", TensorProto.FLOAT, [4, 4], [0.1] * 16)]
        nodes += [helper.make_node("Gemm", [prev, f"w{i}"], [f"g{i}"], name=f"gemm{i}"), helper.make_node("Relu", [f"g{i}"], [f"r{i}"], name=f"relu{i}")]
        prev = f"r{i}"
    inits.append(helper.make_tensor("wh", TensorProto.FLOAT, [4, 4], [0.1] * 16))
    nodes += [helper.make_node("Identity", [prev], ["y"], name="out"), helper.make_node("Gemm", [prev, "wh"], ["z"], name="head")]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]), helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])], inits)
    path = tmp_path / "fp32.onnx"
    onnx.save(helper.make_model(graph), str(path))
    return path


def _search(tmp_path: Path, must_float: set[str], ranking: list[str]):
    fp32 = _mlp(tmp_path)
    built: dict[Path, int8_search.Levers] = {}

    def quantize(levers, path):
        path.write_bytes(b"")
        built[path] = levers

    def judge(path):
        ok = must_float <= set(built[path].keep_float)
        return ok, {"failed": [] if ok else ["maxAbs[y] 1 !<= 0.1"], "maxAbs": {"y": 0.0 if ok else 1.0}}

    rank = lambda _path: [(name, "Gemm", 1.0 / (i + 1)) for i, name in enumerate(ranking)]  # noqa: E731
    return int8_search.search(fp32, tmp_path, quantize, judge, rank, log=lambda _line: None)


def test_the_last_layer_of_every_head_and_the_first_layer_are_the_sensitive_anchor(tmp_path):
    model = onnx.load(str(_mlp(tmp_path)))
    assert int8_search.sensitive_nodes(model) == ["gemm0", "gemm7", "head"]
    assert [n.name for n in int8_search.last_compute_nodes(model)] == ["gemm7", "head"]


def test_the_sensitive_anchor_is_tried_after_the_calibration_methods(tmp_path):
    _, levers, trials = _search(tmp_path, {"head"}, ["gemm3", "head"])
    assert [t.levers.reason.split(",")[0] for t in trials] == ["default: min-max calibration", "Percentile calibration", "Entropy calibration", "MinMax calibration"]
    assert levers.keep_float == ["gemm0", "gemm7", "head"] and trials[-1].passed


def test_the_fewest_nodes_in_float_are_found_by_doubling_then_bisection(tmp_path):
    ranking = ["gemm5", "gemm2", "gemm6", "gemm1", "gemm3"]
    path, levers, trials = _search(tmp_path, {"gemm5", "gemm2", "gemm6"}, ranking)  # the anchor does not cover them
    assert levers.keep_float == ["gemm5", "gemm2", "gemm6"] and "the 3 node(s)" in levers.reason
    kept_counts = [len(t.levers.keep_float) for t in trials[4:]]
    assert kept_counts == [1, 2, 4, 3]  # doubling to 4 passes, bisection finds 3
    assert path.exists() and not [p for p in tmp_path.glob(".int8-candidate-*.onnx") if p != path]


def test_nothing_beyond_half_the_weighted_nodes_is_kept_in_float(tmp_path):
    ranking = [f"gemm{i}" for i in range(8)] + ["head"]
    _, levers, trials = _search(tmp_path, set(ranking), ranking)  # nothing passes
    assert not trials[-1].passed
    assert max(len(t.levers.keep_float) for t in trials) <= 4  # 9 weighted nodes: at most 4 in float


def test_histogram_calibration_takes_batches_of_several_input_sizes(tmp_path):
    """Percentile and entropy calibration over batches of different shapes (several input sizes and a
    short last batch), which ONNX Runtime's histogram collector cannot stack by itself."""
    import numpy as np
    import torch

    from modelship_toolkit.buildlog import BuildLog
    from modelship_toolkit.data import Dataset
    from modelship_toolkit.quantize import quantize

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1)).eval()
    src = tmp_path / "conv.onnx"
    torch.onnx.export(net, torch.zeros(2, 1, 8, 8), str(src), input_names=["x"], output_names=["y"], opset_version=17,
                      dynamic_axes={"x": {0: "b", 2: "h", 3: "w"}, "y": {0: "b", 2: "h", 3: "w"}})
    rng = np.random.default_rng(0)
    sets = [Dataset({"x": rng.random((10, 1, 8, 8), np.float32)}, None, tmp_path), Dataset({"x": rng.random((7, 1, 16, 12), np.float32)}, None, tmp_path)]
    for method in ("Percentile", "Entropy", "MinMax"):
        dst = tmp_path / f"{method}.onnx"
        quantize(src, dst, sets, 4, BuildLog(), int8_search.Levers(method=method))
        assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(dst)).graph.node), method
