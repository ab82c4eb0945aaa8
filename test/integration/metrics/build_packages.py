"""Builds the release packages the metrics integration tests serve, with the serve tests' tiny
package builder (toolkit/tests/serve/serve_pkgbuild.py):

- ``v1.0.0`` stable and ``v2.0.0`` / ``v2.1.0`` equal candidates (same weights, ONNX Runtime),
- ``v3.0.0`` other weights (a shadow that disagrees),
- ``slow-1``: the PyTorch fallback sleeping ``delay_s`` per batch (a slower candidate),
- ``flaky-1``: the PyTorch fallback failing a share of batches (a candidate that errors).

Usage: python build_packages.py OUT_DIR   prints {"name": "path", ...} as JSON.
"""
from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "toolkit" / "tests" / "serve"))

from serve_pkgbuild import MODEL_SOURCE, build_package, edit_metadata, manifest  # noqa: E402

FLAKY_SOURCE = MODEL_SOURCE + '''

import random


class FlakyCNN(TinyCNN):
    """TinyCNN that fails a share of non-zero batches (the warm-up batch is zeros)."""

    def __init__(self, in_ch=1, num_classes=10, delay_s=0.0, fail_rate=0.0):
        super().__init__(in_ch, num_classes, delay_s)
        self.fail_rate = fail_rate

    def forward(self, x):
        if self.fail_rate and bool((x != 0).any()) and random.random() < self.fail_rate:
            raise RuntimeError("injected failure")
        return super().forward(x)
'''


def main(out: Path) -> None:
    pkgs = {
        "v1.0.0": build_package(out / "v1", version="v1.0.0", seed=0),
        "v2.0.0": build_package(out / "v2", version="v2.0.0", seed=0),
        "v2.1.0": build_package(out / "v21", version="v2.1.0", seed=0),
        "v3.0.0": build_package(out / "v3", version="v3.0.0", seed=7),
        "slow-1": build_package(out / "slow", version="slow-1", seed=0, init={"delay_s": 0.02}, with_engine=False),
    }
    flaky = build_package(out / "flaky", version="flaky-1", seed=0, with_engine=False)
    # The source travels as the listed source.tar: replace the module inside it (edit_metadata relists its sha256).
    data = FLAKY_SOURCE.encode()
    info = tarfile.TarInfo("tiny_model.py")
    info.size = len(data)
    with tarfile.open(flaky / "source.tar", "w") as tar:
        tar.addfile(info, io.BytesIO(data))
    m = manifest({"fail_rate": 0.3})
    m["model"]["entrypoint"] = "tiny_model:FlakyCNN"
    edit_metadata(flaky, manifest=m)
    pkgs["flaky-1"] = flaky
    print(json.dumps({k: str(v) for k, v in pkgs.items()}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
