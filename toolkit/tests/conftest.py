"""Shared fixtures: a model repository with a freshly trained digits model, and command runners.

The model is trained once per session by the example's own train.py (a few epochs, fixed seeds),
and exported/built once; every test runs real PyTorch, ONNX and ONNX Runtime.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from toolkit_helpers import EXAMPLE, Toolkit, base_request, digits_manifest  # noqa: E402

TRAIN_EPOCHS = 8


@pytest.fixture()
def toolkit(tmp_path: Path) -> Toolkit:
    """A runner writing its requests and results into the test's tmp folder."""
    return Toolkit(tmp_path)


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model repository like a user's: the digits example with a model trained by its train.py."""
    root = tmp_path_factory.mktemp("repo")
    for name in ("model_def.py", "digits_data.py", "train.py"):
        shutil.copy(EXAMPLE / name, root / name)
    (root / "data").mkdir()
    shutil.copy(EXAMPLE / "data" / "heldout.npz", root / "data" / "heldout.npz")
    subprocess.run(
        [sys.executable, "train.py", "--epochs", str(TRAIN_EPOCHS), "--out", "artifacts"],
        cwd=root, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return root


@pytest.fixture()
def manifest() -> dict[str, Any]:
    """The digits manifest with defaults applied (a fresh copy per test)."""
    return digits_manifest()


@pytest.fixture(scope="session")
def session_manifest() -> dict[str, Any]:
    """The digits manifest for session-scoped fixtures (do not modify)."""
    return digits_manifest()


@pytest.fixture(scope="session")
def exported(repo: Path, session_manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The export result of the trained model (model.onnx in a session folder)."""
    out = tmp_path_factory.mktemp("export")
    code, result = Toolkit(out)("export", base_request(repo, session_manifest, outDir=str(out / "out")))
    assert code == 0, result
    return result


@pytest.fixture(scope="session")
def engines(repo: Path, session_manifest: dict[str, Any], exported: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Build results for fp32 and int8 on onnxruntime-cpu."""
    out = tmp_path_factory.mktemp("build")
    runner, built = Toolkit(out), {}
    for precision in ("fp32", "int8"):
        code, result = runner("build", {
            "repoDir": str(repo), "manifest": session_manifest, "onnxPath": exported["onnx"]["path"],
            "backend": "onnxruntime-cpu", "precision": precision, "outDir": str(out / "engines"),
        })
        assert code == 0, result
        built[precision] = result
    return built

