"""``modelship init``: a manifest from a model class and a sample, guesses written down."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from modelship_toolkit.init_manifest import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _own_model_def():
    """Each example has its own model_def (the CLI runs one per process): the tests here import theirs
    and leave the interpreter as they found it for the tests that import digits' model_def."""
    saved_path, saved = list(sys.path), sys.modules.pop("model_def", None)
    yield
    sys.path[:] = saved_path
    sys.modules.pop("model_def", None)
    if saved is not None:
        sys.modules["model_def"] = saved


def _repo(tmp_path: Path, example: str, arrays: dict[str, np.ndarray]) -> Path:
    shutil.copy(EXAMPLES / example / "model_def.py", tmp_path / "model_def.py")
    np.savez(tmp_path / "sample.npz", **arrays)
    return tmp_path


def test_shared_dynamic_dims_are_found_by_running_forward_and_defined_once(tmp_path):
    rng = np.random.default_rng(0)
    repo = _repo(tmp_path, "text-transformer", {"input_ids": rng.integers(0, 1000, (4, 32)), "attention_mask": np.ones((4, 32), np.int64)})
    assert main(["--repo", str(repo), "--entrypoint", "model_def:TinyTextClassifier", "--sample", "sample.npz", "--name", "text"]) == 0
    m = yaml.safe_load((repo / "modelship.yaml").read_text())
    assert [i["name"] for i in m["inputs"]] == ["input_ids", "attention_mask"]
    assert m["inputs"][0]["dims"][1] == {"name": "sequence", "min": 16, "opt": 32, "max": 64}
    assert m["inputs"][1]["dims"] == ["batch", "sequence"]  # referred to by name
    assert m["task"] == {"kind": "classification", "topK": [1]} and m["parity"]["data"] == {"kind": "random"}
    assert main(["--repo", str(repo), "--entrypoint", "model_def:TinyTextClassifier", "--sample", "sample.npz"]) == 2  # no overwrite


def test_fixed_feature_dims_stay_fixed_and_several_outputs_mean_regression(tmp_path):
    rng = np.random.default_rng(1)
    repo = _repo(tmp_path, "two-head-regression", {"a": rng.random((1500, 8), np.float32), "b": rng.random((1500, 4), np.float32)})
    assert main(["--repo", str(repo), "--entrypoint", "model_def:TwoHeadRegressor", "--sample", "sample.npz", "--name", "reg"]) == 0
    m = yaml.safe_load((repo / "modelship.yaml").read_text())
    assert [(i["name"], i["dims"][1:]) for i in m["inputs"]] == [("features", [8]), ("context", [4])]
    assert [o["dims"] for o in m["outputs"]] == [["batch", 1], ["batch", 1]]
    assert m["task"] == {"kind": "regression"}
    assert m["parity"]["data"] == {"kind": "dataset", "path": "sample.npz", "arrays": {"features": "a", "context": "b"}}
