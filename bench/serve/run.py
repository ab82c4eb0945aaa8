"""bench/serve: the serving runtime's throughput and p50/p99 with dynamic batching, against batch-1
serving and against the model's raw throughput at its best batch in a tight loop (no server).

    PYTHONPATH=toolkit .venv/bin/python bench/serve/run.py --package <release package folder> \\
        [--backend engine|pytorch] [--seconds 10] [--concurrency 32]

``--backend pytorch`` serves the package through the PyTorch fallback (the engine file removed from
a copy of the package), on the GPU when the host has one. Writes bench/results/serve-<backend>-<host>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from load import run_load  # noqa: E402
from raw import raw_throughput  # noqa: E402

from modelship_toolkit.serve.backends import OnnxRuntimeBackend, TorchBackend  # noqa: E402
from modelship_toolkit.serve.package import load_package  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def serve(package: Path, max_batch: int, window_ms: float) -> tuple[subprocess.Popen, int]:
    """Starts the runtime on a free port with one stable package; returns it and its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--stable-package", str(package),
         "--max-batch-size", str(max_batch), "--batch-window-ms", str(window_ms), "--max-queue", "4096", "--log-level", "WARNING"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "toolkit"), os.environ.get("PYTHONPATH")]))},
    )
    for line in proc.stdout:  # type: ignore[union-attr]
        if '"listening"' in line:
            return proc, int(json.loads(line)["port"])
    raise RuntimeError("the runtime exited before listening")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", required=True, type=Path)
    p.add_argument("--backend", choices=["engine", "pytorch"], default="engine")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--max-batch", type=int, default=64)
    p.add_argument("--window-ms", type=float, default=2.0)
    p.add_argument("--data", type=Path, default=ROOT / "examples/digits/data/heldout.npz")
    p.add_argument("--out", type=Path)
    a = p.parse_args()

    package = a.package
    if a.backend == "pytorch":
        package = Path(tempfile.mkdtemp(prefix="modelship-bench-pkg-")) / "pkg"
        shutil.copytree(a.package, package)
        # An engine that is not there (and not listed) is what makes the runtime serve the fallback.
        meta_path = package / "metadata.json"
        meta = json.loads(meta_path.read_text())
        (package / meta["engine"]).unlink()
        meta["files"].pop(meta["engine"], None)
        meta_path.write_text(json.dumps(meta))
    pkg = load_package(str(package))
    backend = TorchBackend(pkg) if a.backend == "pytorch" else OnnxRuntimeBackend(pkg.engine_path, pkg.spec)
    samples = np.load(a.data)["x"].astype(np.float32)
    name = pkg.spec.inputs[0].name

    raw = raw_throughput(lambda x: backend.run({name: x}), samples, [1, 8, 32, 64, 128, 256])
    backend.close()
    runs = {}
    for label, max_batch, window in (("dynamic", a.max_batch, a.window_ms), ("batch1", 1, 0.0)):
        proc, port = serve(package, max_batch, window)
        try:
            run_load(port, pkg.name, samples, concurrency=a.concurrency, seconds=2, input_name=name)  # warm-up
            runs[label] = run_load(port, pkg.name, samples, concurrency=a.concurrency, seconds=a.seconds, input_name=name).summary()
        finally:
            proc.terminate()
            proc.wait()
        print(f"{label:8s} {runs[label]['throughputPerSec']:9.0f} req/s  p50 {runs[label]['p50Ms']:.2f} ms  p99 {runs[label]['p99Ms']:.2f} ms  errors {runs[label]['errors']}", flush=True)
    print(f"raw      {raw['bestPerSec']:9.0f} samples/s at batch {raw['bestBatch']} (tight loop, no server)")

    device = getattr(backend, "device", "cpu")
    report = {
        "bench": "serve",
        "backend": a.backend,
        "device": device,
        "host": {"node": platform.node(), "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "concurrency": a.concurrency,
        "maxBatch": a.max_batch,
        "windowMs": a.window_ms,
        "seconds": a.seconds,
        "dynamic": runs["dynamic"],
        "batch1": runs["batch1"],
        "raw": raw,
        "ratios": {
            "dynamicOverBatch1": runs["dynamic"]["throughputPerSec"] / runs["batch1"]["throughputPerSec"],
            "dynamicOverRaw": runs["dynamic"]["throughputPerSec"] / raw["bestPerSec"],
            "batch1OverRaw": runs["batch1"]["throughputPerSec"] / raw["bestPerSec"],
        },
    }
    if device.startswith("cuda"):
        import torch

        report["gpu"] = torch.cuda.get_device_name(0)
    out = a.out or ROOT / "bench" / "results" / f"serve-{a.backend}-{device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["ratios"]), f"\nwrote {out}")


if __name__ == "__main__":
    main()
