"""Writes the requests the GPU serving scripts send — the same ones bench/serve/run.py builds
(its ``Requests``): the package's input, ``--rows`` samples, as binary HTTP, gRPC and by reference to a
POSIX shared memory object it creates — and prints them as shell assignments for ``eval``:

    eval "$(python3 scripts/gpu/serve-requests.py PACKAGE_DIR OUT_DIR [--rows 8])"
    # REGION KEY NB (the shared memory region's name, object and bytes), REQ_SHM REQ_BINARY REQ_GRPC

The shared memory object stays until removed (``rm /dev/shm/$KEY``).
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "serve"))
from run import SHM_REGION, Requests, _sample  # noqa: E402  (run.py puts the toolkit on sys.path)

from modelship_toolkit.serve.package import load_package  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("package", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--rows", type=int, default=8)
    a = p.parse_args()
    pkg = load_package(str(a.package))
    spec = pkg.spec.inputs[0]
    a.out.mkdir(parents=True, exist_ok=True)
    x = _sample(argparse.Namespace(rows=a.rows, data=None), pkg)
    r = Requests(a.out, pkg.name, spec.name, spec.datatype, x)
    values = {"REGION": SHM_REGION, "KEY": r.shm_key, "NB": r.shm_bytes, "REQ_SHM": r.shm, "REQ_BINARY": r.binary, "REQ_GRPC": r.grpc}
    print("\n".join(f"{k}={shlex.quote(str(v))}" for k, v in values.items()))


if __name__ == "__main__":
    main()
