#!/usr/bin/env bash
# The serving benchmark on the GPU machine (bench/serve/run.py with TensorRT), from the project's
# root, once the device kit has unpacked with --stack (../shared/device-kit):
#
#   bash scripts/gpu/serve-bench.sh deps WHEELS_DIR   # the runtime's PyPI wheels (cp312), carried in
#   bash scripts/gpu/h200-releases.sh start /tmp/modelship-gpu --resnet   # then `wait` until done
#   bash scripts/gpu/serve-bench.sh run LOADGEN OUT   # serves the ResNet's fp16 package under load
#
# The GPU machine has no network: the wheels (uvicorn, uvloop, httptools, orjson, grpcio, protobuf
# for its Python 3.12) and a prebuilt bench/serve/loadgen come from here.
set -uo pipefail
cd "$(dirname "$0")/../.."
HOME_DIR=${MODELSHIP_GPU_HOME:-/tmp/modelship-gpu}
case "${1:-}" in
  deps)
    # Wheels are zip files: unpacked beside the kit's Python modules, which every Python process
    # there sees through a .pth file (env.sh), whatever PYTHONPATH it is started with.
    source .device/kit/env.sh >/dev/null || exit 1
    site=/opt/modelship-device/python
    for w in "${2:?deps WHEELS_DIR}"/*.whl; do python3 -m zipfile -e "$w" "$site" || exit 1; done
    python3 -c 'import uvicorn, uvloop, httptools, grpc, orjson, google.protobuf; print("serve deps ok")'
    ;;
  run)
    loadgen=${2:?run LOADGEN OUT}; out=${3:?run LOADGEN OUT}
    source .device/kit/env.sh >/dev/null || exit 1
    pkg=$(dirname "$(find "$HOME_DIR/artifacts/packages/shapes-resnet" -path '*fp16*' -name metadata.json | head -1)")
    [ -f "$pkg/metadata.json" ] || { echo "no shapes-resnet fp16 package under $HOME_DIR"; exit 1; }
    echo "package: $pkg"
    # Data in the request (binary HTTP, gRPC) and by reference (system shared memory, HTTP and
    # gRPC); batch 1 on binary and shared memory; shared memory again on one and two engine instances.
    LOADGEN_PROCS=${LOADGEN_PROCS:-4} PYTHONPATH=toolkit python3 bench/serve/run.py --package "$pkg" --rows 8 --concurrency 64 \
      --max-batch 64 --window-ms 2 --instances 4 --also-instances 1,2 --protocols binary,grpc,grpc-shm,shm --batch1-protocols binary,shm \
      --baseline-ref none --trtexec --loadgen "$loadgen" --seconds 8 --out "$out/serve-tensorrt-h200.json"
    ;;
  *) echo "usage: $0 deps WHEELS_DIR | run LOADGEN OUT" >&2; exit 2 ;;
esac
