"""bench/serve: the serving runtime under load, side by side with an earlier runtime, in one run.

    PYTHONPATH=toolkit .venv/bin/python bench/serve/run.py --package <release package folder> \\
        [--baseline-ref 1bc9277|none] [--protocols json,binary,grpc] [--seconds 10] [--concurrency 32] [--rows 1]

On a GPU host with a TensorRT package (scripts/gpu/serve-bench.sh): ``--rows 8 --protocols binary,grpc
--baseline-ref none --trtexec --loadgen <prebuilt>``.

For each runtime it starts ``python -m modelship_toolkit.serve`` on loopback with the package as
stable and drives it with bench/serve/loadgen (Go, built here, one OS thread so the other core is
the server's), sending ready-made requests of ``--rows`` samples from the model's held-out data:

- JSON, closed loop (every connection sends as soon as it has its answer): the most it serves;
- JSON, open loop at half that rate: p50/p99 latency under a steady load;
- binary tensor data over HTTP, and gRPC (``raw_input_contents``), closed loop;
- with ``shm`` / ``grpc-shm`` among ``--protocols``, the system shared memory extension: the
  tensor's bytes sit in a POSIX shared memory object registered once, and every request names it
  (as Triton's perf_analyzer ``--shared-memory system`` does: all requests read the same bytes);
- batch-1 serving (one-sample requests, ``--max-batch-size 1``) and a shadow that sees every request;
- and the model's raw throughput in a tight loop (no server) at several batch sizes, and with
  ``--trtexec`` what trtexec measures for the package's engine at the served batch size and at 1.

The baseline runtime is the toolkit at ``--baseline-ref`` (git archive into a temporary folder),
JSON only when it speaks nothing else. Writes bench/results/serve-<device>-<host>.json and prints a
Markdown table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "toolkit"))
sys.path.insert(0, str(Path(__file__).parent))
from raw import raw_throughput  # noqa: E402

from modelship_toolkit.dtypes import NUMPY_OF_V2  # noqa: E402
from modelship_toolkit.serve.backends import load_backend  # noqa: E402
from modelship_toolkit.serve.grpc_server import load_messages  # noqa: E402
from modelship_toolkit.serve.package import load_package  # noqa: E402
from modelship_toolkit.serve.tuning import choose_window  # noqa: E402


def build_loadgen(out_dir: Path) -> Path:
    """Compiles bench/serve/loadgen (its modules come from the Go module proxy on first use)."""
    exe = out_dir / "loadgen"
    subprocess.run(["go", "build", "-o", str(exe), "."], cwd=Path(__file__).parent / "loadgen", check=True,
                   env={**os.environ, "CGO_ENABLED": "0"})
    return exe


def baseline_toolkit(ref: str, out_dir: Path) -> Path:
    """The toolkit as it was at ``ref``, unpacked for PYTHONPATH."""
    dest = out_dir / f"toolkit-{ref}"
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "toolkit/modelship_toolkit"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest), "--strip-components=1"], input=archive, check=True)
    return dest


class Runtime:
    """One serving runtime process on ephemeral ports."""

    def __init__(self, toolkit: Path, package: Path, *args: str, grpc: bool = False) -> None:
        cmd = [sys.executable, "-m", "modelship_toolkit.serve", "--port", "0", "--stable-package", str(package),
               "--max-queue", "4096", "--log-level", "WARNING", *args]
        if grpc:
            cmd += ["--grpc-port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(toolkit)})
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if '"listening"' in line:
                event = json.loads(line)
                self.port, self.grpc_port = int(event["port"]), event.get("grpcPort")
                return
        raise RuntimeError(f"the runtime exited before listening: {' '.join(cmd)}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


#: The shared memory region every bench request names (the runtime registers it at start).
SHM_REGION = "bench-input"


class Requests:
    """The request files the load generator sends: one per protocol."""

    def __init__(self, out_dir: Path, model: str, input_name: str, datatype: str, x: np.ndarray) -> None:
        self.shm_key = f"modelship-bench-{os.getpid()}-{x.shape[0]}"
        Path("/dev/shm", self.shm_key).write_bytes(x.tobytes())
        self.shm_bytes = x.nbytes
        out_dir = out_dir / f"rows-{x.shape[0]}"
        out_dir.mkdir()
        path = f"/v2/models/{model}/infer"
        tensor = {"name": input_name, "shape": list(x.shape), "datatype": datatype}
        self.json = out_dir / "request.json.http"
        body = json.dumps({"inputs": [{**tensor, "data": x.reshape(-1).tolist()}]}).encode()
        self.json.write_bytes(_http(path, body, "application/json"))
        self.binary = out_dir / "request.binary.http"
        head = json.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": x.nbytes}}],
                           "parameters": {"binary_data_output": True}}).encode()
        self.binary.write_bytes(_http(path, head + x.tobytes(), "application/octet-stream", {"Inference-Header-Content-Length": str(len(head))}))
        m = load_messages()
        req = m["inference.ModelInferRequest"](model_name=model, raw_input_contents=[x.tobytes()])
        req.inputs.add(name=input_name, datatype=datatype, shape=list(x.shape))
        self.grpc = out_dir / "request.pb"
        self.grpc.write_bytes(req.SerializeToString())
        by_ref = {"shared_memory_region": SHM_REGION, "shared_memory_byte_size": x.nbytes}
        self.shm = out_dir / "request.shm.http"
        head = json.dumps({"inputs": [{**tensor, "parameters": by_ref}], "parameters": {"binary_data_output": True}}).encode()
        self.shm.write_bytes(_http(path, head, "application/json"))
        req = m["inference.ModelInferRequest"](model_name=model)
        t = req.inputs.add(name=input_name, datatype=datatype, shape=list(x.shape))
        t.parameters["shared_memory_region"].string_param = SHM_REGION
        t.parameters["shared_memory_byte_size"].int64_param = x.nbytes
        self.grpc_shm = out_dir / "request.shm.pb"
        self.grpc_shm.write_bytes(req.SerializeToString())
        self.sizes = {"json": len(body), "binary": len(head) + x.nbytes, "grpc": len(self.grpc.read_bytes()),
                      "shm": len(self.shm.read_bytes()), "grpc-shm": len(self.grpc_shm.read_bytes())}

    def file(self, protocol: str) -> Path:
        """The request file of a protocol."""
        return {"json": self.json, "binary": self.binary, "grpc": self.grpc, "shm": self.shm, "grpc-shm": self.grpc_shm}[protocol]

    def register(self, port: int) -> None:
        """Registers the shared memory object with a runtime (started with --shared-memory system)."""
        import urllib.request

        body = json.dumps({"key": self.shm_key, "byte_size": self.shm_bytes}).encode()
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v2/systemsharedmemory/region/{SHM_REGION}/register",
                                                      data=body, method="POST"), timeout=10).read()

    def close(self) -> None:
        """Removes the shared memory object."""
        Path("/dev/shm", self.shm_key).unlink(missing_ok=True)


def _http(path: str, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> bytes:
    headers = {"Host": "bench", "Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})}
    return f"POST {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + body


def load(loadgen: Path, port: int, request: Path, *, seconds: float, concurrency: int, rate: float = 0.0, grpc: bool = False) -> dict[str, Any]:
    """One load run (its JSON result)."""
    cmd = [str(loadgen), "-addr", f"127.0.0.1:{port}", "-request", str(request), "-c", str(concurrency), "-d", f"{seconds}s", "-rate", str(rate)]
    if grpc:
        cmd += ["-grpc-method", "/inference.GRPCInferenceService/ModelInfer"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "GOMAXPROCS": os.environ.get("LOADGEN_PROCS", "1")})
    return json.loads(out.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", required=True, type=Path, help="a release package folder (e.g. .modelship/artifacts/packages/digits/v1.1.0/cpu-fp32 after make demo)")
    p.add_argument("--baseline-ref", default="1bc9277", help="git ref of the runtime to compare with (default: the stdlib-server runtime)")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rows", type=int, default=1, help="samples per request")
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--window-ms", type=float, help="--batch-window-ms of the runtime (default: its per-model choice)")
    p.add_argument("--also-instances", help="also serve the last of --protocols with these numbers of engine instances (e.g. 1,2)")
    p.add_argument("--batch1-protocols", help="protocols batch-1 serving is measured with (default: the first of --protocols)")
    p.add_argument("--workers", type=int, default=1, help="--workers of the runtime (processes sharing its ports)")
    p.add_argument("--also-workers", help="also serve the first of --protocols with these numbers of workers (e.g. 1,4)")
    p.add_argument("--instances", type=int, default=2, help="--engine-instances of the runtime (TensorRT execution contexts; others run one)")
    p.add_argument("--data", type=Path, help="an .npz with the model's input under 'x' (default: the package's examples data, else random)")
    p.add_argument("--protocols", default="json,binary,grpc", help="what the current runtime is driven with (the first also for batch 1 and the shadow)")
    p.add_argument("--loadgen", type=Path, help="a prebuilt bench/serve/loadgen binary (default: go build it)")
    p.add_argument("--trtexec", action="store_true", help="also measure the package's TensorRT engine with trtexec")
    p.add_argument("--out", type=Path)
    a = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="modelship-bench-serve-"))
    try:
        report = run(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = a.out or ROOT / "bench" / "results" / f"serve-{report['device']}-{platform.node()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report), f"\nwrote {out}", sep="\n")


def _sample(a: argparse.Namespace, pkg: Any) -> np.ndarray:
    spec = pkg.spec.inputs[0]
    dtype = NUMPY_OF_V2[spec.datatype]
    data = a.data or ROOT / "examples" / pkg.name / "data" / "heldout.npz"
    shape = [a.rows, *spec.opt_shape()[1:]]
    if Path(data).exists():
        x = np.load(data)["x"].astype(dtype)
        if list(x.shape[1:]) == shape[1:]:
            return np.ascontiguousarray(np.resize(x, shape))
    return np.random.default_rng(0).uniform(0, 1, size=shape).astype(dtype)


def run(a: argparse.Namespace, work: Path) -> dict[str, Any]:
    pkg = load_package(str(a.package))
    x = _sample(a, pkg)
    spec = pkg.spec.inputs[0]
    requests = Requests(work, pkg.name, spec.name, spec.datatype, x)
    single = Requests(work, pkg.name, spec.name, spec.datatype, x[:1]) if a.rows > 1 else requests
    loadgen = a.loadgen or build_loadgen(work)
    current = ROOT / "toolkit"
    protocols = a.protocols.split(",")
    window = ["--batch-window-ms", str(a.window_ms)] if a.window_ms is not None else []
    tuning = ["--max-batch-size", str(a.max_batch), "--engine-instances", str(a.instances), "--workers", str(a.workers), *window]
    kw = {"seconds": a.seconds, "concurrency": a.concurrency}
    results: dict[str, Any] = {}

    def measure(label: str, toolkit: Path, args: list[str], protocols: list[str], grpc: bool = False, reqs: Requests = requests) -> None:
        by_ref = any(p in ("shm", "grpc-shm") for p in protocols)
        rt = Runtime(toolkit, a.package, *args, *(["--shared-memory", "system"] if by_ref else []), grpc=grpc)
        try:
            if by_ref:
                reqs.register(rt.port)
            for proto in protocols:
                request = reqs.file(proto)
                on_grpc = proto.startswith("grpc")
                port = rt.grpc_port if on_grpc else rt.port
                load(loadgen, port, request, seconds=2, concurrency=a.concurrency, grpc=on_grpc)  # warm-up
                r = results[f"{label}/{proto}"] = load(loadgen, port, request, grpc=on_grpc, **kw)
                print(f"{label:10s} {proto:6s} {r['throughputPerSec']:9.0f} req/s  p50 {r['p50Ms']:.2f} ms  p99 {r['p99Ms']:.2f} ms  errors {r['errors']}", flush=True)
                if proto == protocols[0]:
                    half = r["throughputPerSec"] / 2
                    h = results[f"{label}/{proto}-half-load"] = load(loadgen, port, request, rate=half, grpc=on_grpc, **kw)
                    print(f"{label:10s} {'@half':6s} {h['throughputPerSec']:9.0f} req/s  p50 {h['p50Ms']:.2f} ms  p99 {h['p99Ms']:.2f} ms  errors {h['errors']}", flush=True)
        finally:
            rt.stop()

    if a.baseline_ref != "none":
        # It has no --engine-instances or --workers nor a window of its own per model: it gets the one the current runtime chooses.
        same = a.window_ms if a.window_ms is not None else choose_window(Path(pkg.root), a.max_batch, None).ms
        measure("baseline", baseline_toolkit(a.baseline_ref, work), [*tuning[:2], "--batch-window-ms", str(same)], ["json"])
    on_grpc = protocols[0].startswith("grpc")
    try:
        measure("current", current, tuning, protocols, grpc=any(p.startswith("grpc") for p in protocols))
        batch1 = a.batch1_protocols.split(",") if a.batch1_protocols else protocols[:1]
        measure("batch1", current, ["--max-batch-size", "1", "--batch-window-ms", "0", *tuning[2:6]],
                batch1, grpc=any(p.startswith("grpc") for p in batch1), reqs=single)
        measure("shadow", current, [*tuning, "--shadow-package", str(a.package)], protocols[:1], grpc=on_grpc)
        for n in filter(None, (a.also_instances or "").split(",")):  # the same load on other numbers of engine instances
            proto = a.protocols.split(",")[-1]
            measure(f"instances-{n}", current, [*tuning, "--engine-instances", n], [proto], grpc=proto.startswith("grpc"))
        for n in filter(None, (a.also_workers or "").split(",")):  # the same load on other numbers of workers
            measure(f"workers-{n}", current, [*tuning, "--workers", n], protocols[:1], grpc=on_grpc)
    finally:
        requests.close()
        single.close()

    backend = load_backend(pkg).backend
    try:
        raw = raw_throughput(lambda b: backend.run({spec.name: b}), x, [1, 8, 32, 64])
    finally:
        backend.close()
    print(f"raw      {raw['bestPerSec']:9.0f} samples/s at batch {raw['bestBatch']} (tight loop, no server)")
    trtexec = trtexec_throughput(pkg, spec.name, [a.max_batch, 1]) if a.trtexec else None
    first = protocols[0]
    cur, shadow = results[f"current/{first}"]["throughputPerSec"], results[f"shadow/{first}"]["throughputPerSec"]
    best = max(results[f"current/{p}"]["throughputPerSec"] for p in protocols) * a.rows
    device = "gpu" if pkg.backend == "tensorrt" or str(getattr(backend, "device", "cpu")).startswith("cuda") else "cpu"
    return {
        "bench": "serve",
        "date": dt.date.today().isoformat(),
        "command": " ".join(["bench/serve/run.py", *sys.argv[1:]]),
        "device": device,
        "host": {"node": platform.node(), "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "package": {"name": pkg.name, "version": pkg.version, "backend": pkg.backend, "precision": pkg.precision},
        "baselineRef": a.baseline_ref,
        "rowsPerRequest": a.rows, "concurrency": a.concurrency, "maxBatch": a.max_batch, "windowMs": a.window_ms, "seconds": a.seconds,
        "engineInstances": a.instances, "workers": a.workers,
        "requestBytes": requests.sizes,
        "runs": results,
        "raw": raw,
        "trtexec": trtexec,
        "shadowCostMicrosecondsPerRequest": 1e6 / shadow - 1e6 / cur,
        "ratios": {
            **({"currentOverBaseline": cur / results["baseline/json"]["throughputPerSec"]} if "baseline/json" in results else {}),
            "servedSamplesOverBatch1Serving": best / results[f"batch1/{first}"]["throughputPerSec"],
            "servedSamplesOverRaw": best / raw["bestPerSec"],
            **({"servedSamplesOverTrtexec": best / trtexec[str(a.max_batch)]} if trtexec else {}),
            "shadowOverCurrent": shadow / cur,
            "perProtocol": {p: {
                "samplesPerSec": results[f"current/{p}"]["throughputPerSec"] * a.rows,
                **({"overTrtexec": results[f"current/{p}"]["throughputPerSec"] * a.rows / trtexec[str(a.max_batch)]} if trtexec else {}),
                **({"overBatch1Serving": results[f"current/{p}"]["throughputPerSec"] * a.rows / results[f"batch1/{p}"]["throughputPerSec"]}
                   if f"batch1/{p}" in results else {}),
            } for p in protocols},
        },
    }


def trtexec_throughput(pkg: Any, input_name: str, batches: list[int]) -> dict[str, float]:
    """Samples/s that trtexec measures for the package's engine at each batch size (its
    ``Throughput: N qps`` times the batch), at the opt size of the other dims."""
    import re

    spec = pkg.spec.inputs[0]
    out: dict[str, float] = {}
    for b in batches:
        shape = "x".join(str(n) for n in [b, *spec.opt_shape()[1:]])
        log = subprocess.run(["trtexec", f"--loadEngine={pkg.engine_path}", f"--shapes={input_name}:{shape}", "--duration=10", "--warmUp=2000"],
                             capture_output=True, text=True, check=True).stdout
        m = re.search(r"Throughput: ([0-9.]+) qps", log)
        if not m:
            raise RuntimeError(f"trtexec printed no throughput for batch {b}: {log[-500:]}")
        out[str(b)] = float(m.group(1)) * b
        print(f"trtexec  {out[str(b)]:9.0f} samples/s at batch {b}", flush=True)
    return out


def table(r: dict[str, Any]) -> str:
    """The report as a Markdown table (the README's)."""
    lines = [f"{r['rowsPerRequest']} sample(s) per request (batch 1: one), {r['concurrency']} connections, {r['device']}",
             "| runtime | protocol | req/s (closed loop) | p50 / p99 ms | at half load: p50 / p99 ms |", "|---|---|---|---|---|"]
    for key, run in r["runs"].items():
        label, proto = key.split("/")
        if proto.endswith("-half-load"):
            continue
        half = r["runs"].get(f"{label}/{proto}-half-load")
        at_half = f"{half['p50Ms']:.2f} / {half['p99Ms']:.2f}" if half else ""
        lines.append(f"| {label} | {proto} | {run['throughputPerSec']:,.0f} | {run['p50Ms']:.2f} / {run['p99Ms']:.2f} | {at_half} |")
    lines.append(f"\nraw engine: {r['raw']['bestPerSec']:,.0f} samples/s at batch {r['raw']['bestBatch']}; "
                 f"shadow copy: {r['shadowCostMicrosecondsPerRequest']:.1f} µs per request; ratios: "
                 + ", ".join(f"{k} {v:.2f}" for k, v in r["ratios"].items() if isinstance(v, float)))
    if r.get("trtexec"):
        lines.append("trtexec: " + ", ".join(f"{v:,.0f} samples/s at batch {k}" for k, v in r["trtexec"].items()))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
