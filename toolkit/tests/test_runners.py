"""The one runner layer (modelship_toolkit.runners): the ONNX Runtime and PyTorch runners answer
the same call with the same names, and the helpers that line outputs and inputs up with the
manifest refuse what does not fit."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from modelship_toolkit.errors import BadInput
from modelship_toolkit.model_loading import load_model, load_state_dict
from modelship_toolkit.runners import feed_names, in_order
from modelship_toolkit.runners.onnxruntime import OnnxRuntimeRunner
from modelship_toolkit.runners.pytorch import TorchRunner


def test_onnxruntime_and_pytorch_runners_agree_on_digits(repo, session_manifest: dict[str, Any], exported):
    ort = OnnxRuntimeRunner(exported["onnx"]["path"], threads=1)
    ref = TorchRunner(load_model(str(repo), session_manifest, repo / "artifacts" / "model_best.pt"), "cpu", ["input"], ["logits"])
    assert (ort.kind, ref.kind) == ("onnxruntime", "pytorch")
    assert ort.input_names == ref.input_names == ["input"] and ort.output_names == ref.output_names == ["logits"]
    x = {"input": np.random.default_rng(1).normal(size=(16, 1, 8, 8)).astype(np.float32)}
    a, b = ort.run(x), ref.run(x)
    assert set(a) == set(b) == {"logits"} and a["logits"].shape == (16, 10)
    assert np.max(np.abs(a["logits"] - b["logits"])) < 1e-4
    # A read-only input (request bytes straight off the wire) is fine for both.
    frozen = {"input": np.frombuffer(x["input"].tobytes(), dtype=np.float32).reshape(16, 1, 8, 8)}
    assert np.array_equal(ref.run(frozen)["logits"], b["logits"])


def test_onnxruntime_runner_names_the_field_of_a_model_it_cannot_load(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(BadInput) as e:
        OnnxRuntimeRunner(bad, field="onnxPath")
    assert e.value.field == "onnxPath" and "cannot load" in e.value.message


def test_in_order_matches_by_name_then_by_position_and_refuses_too_few():
    a, b = np.zeros(1), np.ones(1)
    assert [v[0] for v in in_order(["y", "x"], {"x": a, "y": b})] == [1.0, 0.0]
    assert [v[0] for v in in_order(["logits"], {"output_0": b, "extra": a})] == [1.0]
    with pytest.raises(RuntimeError, match="produced 1 outputs"):
        in_order(["a", "b"], {"z": a})


def test_feed_names_renames_by_position_only_when_counts_match():
    assert feed_names(["input"], ["input", "mask"]) == {"input": "input"}
    assert feed_names(["pixels"], ["x"]) == {"pixels": "x"}
    with pytest.raises(RuntimeError, match="do not match"):
        feed_names(["pixels"], ["x", "y"])


@pytest.mark.parametrize("key", ["model", "state_dict", "model_state_dict"])
def test_checkpoints_saved_under_the_common_keys_load(tmp_path, key):
    state = torch.nn.Linear(2, 1).state_dict()
    torch.save({key: state, "epoch": 3}, tmp_path / "c.pt")
    assert set(load_state_dict(tmp_path / "c.pt", field="checkpointPath")) == {"weight", "bias"}
    torch.save({"epoch": 3}, tmp_path / "d.pt")
    with pytest.raises(BadInput, match="holds no state_dict"):
        load_state_dict(tmp_path / "d.pt", field="checkpointPath")
