#!/usr/bin/env bash
# On the GPU machine (after the device kit, `serve-bench.sh deps` with the py-spy wheel among the wheels in
# .device/extra, and `h200-releases.sh start /tmp/modelship-gpu --resnet --fp16-only`): serves the ResNet fp16
# package over system shared memory on $INST engine instances (default 4) under 64 connections and
# records 8 s of py-spy samples of every thread into $OUT/prof.raw, the load into $OUT/prof-load.json
# (bench/results/gpu/serve-tensorrt-h200-2026-12-01-profile.json summarizes two such runs).
set -uo pipefail
cd "$(dirname "$0")/../.."
source .device/kit/env.sh >/dev/null
mkdir -p /tmp/pyspy && cd /tmp/pyspy && python3 -m zipfile -e /work/main/.device/extra/py_spy-*.whl . >/dev/null; cd - >/dev/null
SPY=$(find /tmp/pyspy -name py-spy -type f | head -1); chmod +x $SPY
pkg=$(dirname "$(find /tmp/modelship-gpu/artifacts/packages/shapes-resnet -path '*fp16*' -name metadata.json | head -1)")
eval "$(python3 scripts/gpu/serve-requests.py "$pkg" "$(mktemp -d)")"
PYTHONPATH=toolkit python3 -m modelship_toolkit.serve --port 8300 --stable-package "$pkg" --shared-memory system --max-batch-size 64 --batch-window-ms 2 --engine-instances ${INST:-4} --max-queue 4096 --log-level WARNING > /tmp/rt.log 2>&1 &
RT=$!
for i in $(seq 60); do grep -q listening /tmp/rt.log && break; sleep 0.5; done
curl -s -X POST "localhost:8300/v2/systemsharedmemory/region/$REGION/register" -d "{\"key\":\"$KEY\",\"byte_size\":$NB}"; echo
GOMAXPROCS=4 .device/extra/loadgen -addr 127.0.0.1:8300 -request "$REQ_SHM" -c 64 -d 14s > $OUT/prof-load.json &
LG=$!
sleep 4
$SPY record -p $RT -d 8 -r 200 -f raw -o $OUT/prof.raw --threads --nonblocking >/dev/null 2>&1
wait $LG; cat $OUT/prof-load.json | head -c 400; echo
curl -s localhost:8300/metrics | grep -E "batch_size_(sum|count)|batch_duration_seconds_(sum|count)" | tee $OUT/prof-metrics.txt
kill $RT; wait $RT 2>/dev/null
