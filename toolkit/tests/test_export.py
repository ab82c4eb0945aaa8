"""export: ONNX with dynamic axes at the manifest's opset, checker, census, determinism, sanity run."""
from __future__ import annotations

import onnx
import pytest
from toolkit_helpers import base_request

from modelship_toolkit import exporter
from modelship_toolkit.errors import BadInput
from modelship_toolkit.versions import torch_version_tuple


def test_happy_path(exported, session_manifest):
    r = exported
    assert r["opsetRequested"] == 17
    assert r["exporter"] in ("torchscript", "dynamo")
    assert r["opsetWritten"] >= 17
    model = onnx.load(r["onnx"]["path"])
    assert r["irVersion"] == model.ir_version
    assert r["inputs"] == [{"name": "input", "shape": ["batch", 1, 8, 8]}]
    assert r["outputs"] == [{"name": "logits", "shape": ["batch", 10]}]
    assert r["operators"]["Conv"] == 2
    assert r["determinism"] == {"maxAbs": 0.0, "passed": True}
    assert r["watchList"] == []  # SmallCNN uses no delicate operator
    assert any(c.startswith("onnx.checker") for c in r["checks"])
    assert any(c.startswith("onnxruntime vs PyTorch") and c.endswith("ok") for c in r["checks"])
    assert not [c for c in r["checks"] if "FAILED" in c]


def test_export_is_deterministic(toolkit, repo, manifest, exported, tmp_path):
    code, again = toolkit("export", base_request(repo, manifest, outDir=str(tmp_path / "again")))
    assert code == 0
    assert again["onnx"]["sha256"] == exported["onnx"]["sha256"]
    assert again["operators"] == exported["operators"]


def test_output_names_must_match_the_manifest(toolkit, repo, manifest, tmp_path):
    manifest["outputs"] = [{"name": "logits", "dtype": "float32", "dims": ["batch", 10]},
                           {"name": "probs", "dtype": "float32", "dims": ["batch", 10]}]
    code, result = toolkit("export", base_request(repo, manifest, outDir=str(tmp_path / "o")))
    assert code == 2
    assert result["error"]["field"] == "manifest.outputs"
    assert not (tmp_path / "o" / "model.onnx").exists()
    assert not list((tmp_path / "o").iterdir())  # nothing half-written left behind


def test_missing_module_is_bad_input(toolkit, repo, manifest, tmp_path):
    manifest["model"]["entrypoint"] = "no_such_module:SmallCNN"
    code, result = toolkit("export", base_request(repo, manifest, outDir=str(tmp_path / "o")))
    assert code == 2 and result["error"]["field"] == "manifest.model.entrypoint"


@pytest.mark.parametrize(
    ("requested", "torch_version", "onnxscript", "expected"),
    [
        ("auto", (1, 13), False, exporter.Plan("torchscript", 17)),
        ("auto", (2, 8), True, exporter.Plan("torchscript", 17)),
        ("auto", (2, 11), True, exporter.Plan("dynamo", 18)),
        ("auto", (2, 11), False, exporter.Plan("torchscript", 17)),
        ("dynamo", (2, 11), True, exporter.Plan("dynamo", 18)),
        ("torchscript", (2, 11), True, exporter.Plan("torchscript", 17)),
    ],
)
def test_exporter_choice(requested, torch_version, onnxscript, expected):
    assert exporter.choose(requested, 17, torch_version, onnxscript) == expected


def test_dynamo_keeps_a_higher_requested_opset():
    assert exporter.choose("auto", 20, (2, 11), True) == exporter.Plan("dynamo", 20)


def test_dynamo_unavailable_is_bad_input():
    with pytest.raises(BadInput) as err:
        exporter.choose("dynamo", 17, (1, 13), False)
    assert err.value.field == "manifest.export.exporter"


@pytest.mark.skipif(torch_version_tuple() >= (2, 0), reason="torch 1.x exports opset 17 at most")
def test_opset_beyond_this_torch_is_bad_input(toolkit, repo, manifest, tmp_path):
    manifest["export"]["opset"] = 18
    code, result = toolkit("export", base_request(repo, manifest, outDir=str(tmp_path / "o")))
    assert code == 2 and result["error"]["field"] == "manifest.export.opset"
    assert not list((tmp_path / "o").iterdir())


def test_same_checkpoint_from_another_folder_exports_the_same_bytes(toolkit, repo, manifest, exported, tmp_path):
    """A re-release unpacks the source elsewhere; the ONNX (and so the engine-cache key) must not change."""
    import shutil

    moved = tmp_path / "elsewhere" / "repo"
    shutil.copytree(repo, moved)
    code, again = toolkit("export", base_request(moved, manifest, outDir=str(tmp_path / "out")))
    assert code == 0, again
    assert again["onnx"]["sha256"] == exported["onnx"]["sha256"]
    assert any("provenance stripped" in c for c in again["checks"])


def test_export_provenance_is_stripped_from_nodes_subgraphs_and_functions():
    """What the dynamo exporter records per node (stack traces with the worker's paths) is removed."""
    from onnx import TensorProto, helper

    from modelship_toolkit.onnx_provenance import strip_export_provenance

    def node(name):
        n = helper.make_node("Identity", ["x"], ["y"], name=name, doc_string="File /scratch/release-17/model_def.py, line 3")
        n.metadata_props.add(key="pkg.torch.onnx.stack_trace", value="/scratch/release-17/model_def.py:3")
        return n

    branch = helper.make_graph([node("inner")], "b", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    outer = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
    graph = helper.make_graph([node("outer"), outer], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, functions=[helper.make_function("local", "f", ["x"], ["y"], [node("fn")], [helper.make_opsetid("", 17)])])
    assert strip_export_provenance(model) == 2 + 2 * 2 + 2
    text = model.SerializeToString()
    assert b"/scratch/release-17" not in text and b"stack_trace" not in text


def test_auto_falls_back_to_torchscript_only_when_it_chose_dynamo():
    dynamo = exporter.Plan("dynamo", 18)
    can_fall_back = "dynamo" in __import__("inspect").signature(__import__("torch").onnx.export).parameters
    assert exporter.fallback_plan("auto", 17, dynamo) == (exporter.Plan("torchscript", 17) if can_fall_back else None)
    assert exporter.fallback_plan("dynamo", 17, dynamo) is None  # asked for by name: its failure is the answer
    assert exporter.fallback_plan("auto", 17, exporter.Plan("torchscript", 17)) is None
