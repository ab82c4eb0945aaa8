"""Runs the toolkit's model steps on this host as the release would (inspect → export → build fp32
→ parity with the PyTorch reference on CUDA when there is a GPU → bench) on the digits example,
and prints what each reported. Used on the GPU machine (torch ≥ 2.9 with CUDA) to show the export
and the CUDA reference running there for real.

    PYTHONPATH=toolkit python bench/gpu/pipeline.py --manifest <validated manifest JSON> --work <dir>
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def toolkit(command: str, request: dict, work: Path) -> dict:
    """One toolkit call through its process boundary; returns the result (any exit code)."""
    req, res = work / f"{command}.request.json", work / f"{command}.result.json"
    req.write_text(json.dumps(request))
    proc = subprocess.run([sys.executable, "-m", "modelship_toolkit", command, "--request", str(req), "--result", str(res)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "toolkit"), os.environ.get("PYTHONPATH")]))})
    print(f"$ modelship_toolkit {command} -> exit {proc.returncode}")
    if proc.returncode not in (0, 3):
        print(proc.stderr[-3000:])
    return json.loads(res.read_text()) if res.exists() else {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    a = p.parse_args()
    repo = a.work / "digits"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(ROOT / "examples/digits", repo, ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    subprocess.run([sys.executable, "train.py", "--out", "artifacts"], cwd=repo, check=True, capture_output=True)
    manifest = json.loads(a.manifest.read_text())
    ckpt = str(repo / "artifacts/model_best.pt")

    doctor = toolkit("doctor", {}, a.work)
    print(json.dumps({k: doctor.get(k) for k in ("versions", "cuda")}, indent=1))
    inspect = toolkit("inspect", {"repoDir": str(repo), "manifest": manifest, "checkpointPath": ckpt, "metricsPath": str(repo / "artifacts/metrics.json")}, a.work)
    print("inspect:", inspect.get("verdict"), inspect.get("metrics"), inspect.get("versions"))
    export = toolkit("export", {"repoDir": str(repo), "manifest": manifest, "checkpointPath": ckpt, "outDir": str(a.work / "export")}, a.work)
    print("export:", {k: export.get(k) for k in ("exporter", "opsetRequested", "opsetWritten", "irVersion", "operators", "determinism", "checks", "versions")})
    build = toolkit("build", {"repoDir": str(repo), "manifest": manifest, "onnxPath": export["onnx"]["path"], "backend": "onnxruntime-cpu", "precision": "fp32", "outDir": str(a.work / "fp32")}, a.work)
    print("build:", build.get("engine", {}).get("bytes"), "bytes", build.get("versions"))
    parity = toolkit("parity", {"repoDir": str(repo), "manifest": manifest, "checkpointPath": ckpt, "enginePath": build["engine"]["path"],
                                "backend": "onnxruntime-cpu", "precision": "fp32", "referenceDevice": "auto"}, a.work)
    print("parity:", {k: parity.get(k) for k in ("verdict", "samples", "stats", "referenceDevice", "devices")})
    bench = toolkit("bench", {"manifest": manifest, "enginePath": build["engine"]["path"], "backend": "onnxruntime-cpu", "precision": "fp32"}, a.work)
    print("bench:", [(s["batch"], round(s["latencyMs"]["p50"], 4), round(s["throughputPerSec"])) for s in bench.get("shapes", [])], bench.get("host"))


if __name__ == "__main__":
    main()
