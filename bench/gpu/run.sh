#!/usr/bin/env bash
# What only a GPU shows, in one device run (torch with CUDA, no TensorRT, no internet): the toolkit's
# doctor, export and PyTorch CUDA reference on this torch, the NVML memory reading, and bench/serve
# with the PyTorch backend on the GPU. Needs .modelship/whl (jsonschema, prometheus_client wheels),
# .modelship/gpu/manifest.json (the validated digits manifest) and .modelship/bench-package carried.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/modelship-gpu}
mkdir -p "$OUT"
# The machine's python has torch, onnx, onnxruntime, pytest, prometheus_client; add jsonschema.
PY=${PY:-python}
$PY -c 'import jsonschema' 2>/dev/null || $PY -m pip install -q --no-deps --no-index --find-links .modelship/whl --target /tmp/msextra jsonschema jsonschema_specifications referencing rpds_py
export PYTHONPATH=/tmp/msextra
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
$PY -c 'import torch, onnx, onnxruntime; print("torch", torch.__version__, "cuda", torch.version.cuda, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)'
echo "== toolkit steps on this torch"
PYTHONPATH=toolkit:/tmp/msextra $PY bench/gpu/pipeline.py --manifest .modelship/gpu/manifest.json --work "$OUT/pipeline" 2>&1 | tail -40
echo "== CUDA reference and NVML tests"
PYTHONPATH=toolkit:/tmp/msextra $PY -m pytest -q toolkit/tests/test_tensorrt_cuda_reference.py toolkit/tests/test_tensorrt_toolkit.py toolkit/tests/test_export.py 2>&1 | tail -5
echo "== bench/serve"
PYTHONPATH=toolkit:/tmp/msextra $PY bench/serve/run.py --package .modelship/bench-package --backend pytorch --concurrency 64 --out "$OUT/serve-pytorch-cuda.json" 2>&1 | grep -v WARNING
PYTHONPATH=toolkit:/tmp/msextra $PY bench/serve/run.py --package .modelship/bench-package --backend engine --concurrency 64 --out "$OUT/serve-engine-cpu-gpuhost.json" 2>&1 | grep -v WARNING
