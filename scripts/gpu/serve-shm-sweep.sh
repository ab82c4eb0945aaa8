#!/usr/bin/env bash
# On the GPU machine, after the device kit (--stack), `bash scripts/gpu/serve-bench.sh deps` and
# `h200-releases.sh start /tmp/modelship-gpu --resnet --fp16-only`: serves the ResNet fp16 package over
# system shared memory at each engine-instance count in $INSTANCES (default "8 4"), 8 s of load each,
# results in $OUT/shm-N.json (bench/results/gpu/serve-tensorrt-h200-2026-12-01-shm-direct.json).
# Needs the prebuilt load generator at .device/extra/loadgen.
set -uo pipefail
cd "$(dirname "$0")/../.."
source .device/kit/env.sh >/dev/null
pkg=$(dirname "$(find /tmp/modelship-gpu/artifacts/packages/shapes-resnet -path '*fp16*' -name metadata.json | head -1)")
eval "$(python3 scripts/gpu/serve-requests.py "$pkg" "$(mktemp -d)")"
for INST in ${INSTANCES:-8 4}; do
  PYTHONPATH=toolkit python3 -m modelship_toolkit.serve --port 8300 --stable-package "$pkg" --shared-memory system --max-batch-size 64 --batch-window-ms 2 --engine-instances $INST --max-queue 4096 --log-level WARNING > /tmp/rt-$INST.log 2>&1 &
  RT=$!
  for i in $(seq 80); do grep -q listening /tmp/rt-$INST.log && break; sleep 0.5; done
  curl -s -X POST "localhost:8300/v2/systemsharedmemory/region/$REGION/register" -d "{\"key\":\"$KEY\",\"byte_size\":$NB}" >/dev/null
  GOMAXPROCS=4 .device/extra/loadgen -addr 127.0.0.1:8300 -request "$REQ_SHM" -c 64 -d 8s -warmup 2s > $OUT/shm-$INST.json
  python3 -c "import json;d=json.load(open('$OUT/shm-$INST.json'));print('instances $INST', round(d['throughputPerSec']), 'req/s', round(d['throughputPerSec']*8), 'images/s p50', d['p50Ms'], 'p99', d['p99Ms'], 'errors', d['errors'], d.get('failures'))"
  curl -s localhost:8300/metrics | grep -E "batch_size_(sum|count)" | tr '\n' ' '; echo
  grep -iE "warning|error" /tmp/rt-$INST.log | head -3
  kill $RT; wait $RT 2>/dev/null
done
