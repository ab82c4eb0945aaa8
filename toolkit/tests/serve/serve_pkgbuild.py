"""A tiny release-package builder for the serve tests, independent of the rest of the toolkit:
a small CNN (dynamic batch, height and width) exported to ONNX (opset 17), its checkpoint, its
source, and a metadata.json listing every file with its sha256."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import torch

MODEL_SOURCE = '''
import time
import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyCNN(nn.Module):
    """Small CNN for 1xHxW images; ``delay_s`` makes every forward slow (for queue tests)."""

    def __init__(self, in_ch=1, num_classes=10, delay_s=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, num_classes)
        self.delay_s = delay_s

    def forward(self, x):
        if self.delay_s:
            time.sleep(self.delay_s)
        x = F.relu(self.conv1(x))
        return self.fc(self.pool(x).flatten(1))
'''

NAME = "digits"


def manifest(init: dict[str, Any] | None = None, name: str = NAME) -> dict[str, Any]:
    """The manifest slice the runtime reads."""
    return {
        "apiVersion": "modelship/v1",
        "name": name,
        "model": {"entrypoint": "tiny_model:TinyCNN", "init": {"in_ch": 1, "num_classes": 10, **(init or {})}, "pythonPath": "."},
        "inputs": [{"name": "input", "dtype": "float32", "dims": [
            {"name": "batch", "min": 1, "opt": 4, "max": 64}, 1,
            {"name": "height", "min": 4, "opt": 8, "max": 16}, {"name": "width", "min": 4, "opt": 8, "max": 16}]}],
        "outputs": [{"name": "logits", "dtype": "float32", "dims": ["batch", 10]}],
        "task": {"kind": "classification", "topK": [1, 5]},
    }


def _load_class(src: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_tiny_model_{id(src)}", src / "tiny_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.TinyCNN


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def write_metadata(root: Path, meta: dict[str, Any]) -> None:
    """(Re)lists every file under ``root`` except metadata.json, then writes metadata.json."""
    files = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "metadata.json" and "__pycache__" not in p.parts:
            rel = p.relative_to(root).as_posix()
            files[rel] = {"sha256": sha256(p), "bytes": p.stat().st_size}
    meta["files"] = files
    (root / "metadata.json").write_text(json.dumps(meta, indent=2))


def build_package(root: Path, *, version: str = "v1.0.0", seed: int = 0, init: dict[str, Any] | None = None,
                  backend: str = "onnxruntime-cpu", with_engine: bool = True, name: str = NAME) -> Path:
    """Builds a package in ``root`` (created). Weights depend on ``seed``."""
    root.mkdir(parents=True, exist_ok=True)
    # The source travels as source.tar (listed with its sha256), as the release's packages carry it.
    src = root.parent / f".{root.name}-source"
    src.mkdir(exist_ok=True)
    (src / "tiny_model.py").write_text(MODEL_SOURCE)
    with tarfile.open(root / "source.tar", "w") as tar:
        tar.add(src / "tiny_model.py", arcname="tiny_model.py")
    cls = _load_class(src)
    torch.manual_seed(seed)
    model = cls(in_ch=1, num_classes=10).eval()
    torch.save(model.state_dict(), root / "model_best.pt")
    if with_engine:
        torch.onnx.export(model, torch.zeros(2, 1, 8, 8), str(root / "model.onnx"), opset_version=17,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}})
    meta = {
        "model_id": f"{name}@{version}", "name": name, "version": version, "backend": backend, "precision": "fp32",
        "engine": "model.onnx", "checkpoint": "model_best.pt", "source": "source.tar",
        "manifest": manifest(init, name), "created": "2025-01-01T00:00:00Z", "extra_field_ignored": True,
    }
    write_metadata(root, meta)
    return root


def copy_package(src: Path, dst: Path) -> Path:
    """A copy of a package (to tamper with)."""
    shutil.copytree(src, dst)
    return dst


def edit_metadata(root: Path, **changes: Any) -> None:
    """Changes metadata fields and relists the files' digests."""
    meta = json.loads((root / "metadata.json").read_text())
    meta.update(changes)
    write_metadata(root, meta)


if __name__ == "__main__":  # python pkgbuild.py OUT_DIR [version]
    print(build_package(Path(sys.argv[1]), version=sys.argv[2] if len(sys.argv) > 2 else "v1.0.0"))
