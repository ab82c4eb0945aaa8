#!/usr/bin/env bash
# On the GPU machine, after the device kit (--stack), `bash scripts/gpu/serve-bench.sh deps` and
# `h200-releases.sh start /tmp/modelship-gpu --resnet --fp16-only`: serves the ResNet fp16 package
# (8 images per request, max batch 64) under each configuration in $CONFIGS, 8 s of load each.
#
#   CONFIGS="WORKERS:INSTANCES:CONNECTIONS:PROTOCOL[:profile] ..." bash scripts/gpu/serve-workers-sweep.sh
#
# PROTOCOL is shm (system shared memory over HTTP: the bytes go from the region to the GPU by DMA)
# or binary (the tensor in the HTTP body). With :profile, py-spy (its wheel in .device/extra)
# samples worker 0 for 6 s of that run. Needs the prebuilt load generator at .device/extra/loadgen.
# Results: $OUT/sweep.json (one entry per configuration), $OUT/<config>.json (the load generator's).
set -uo pipefail
cd "$(dirname "$0")/../.."
source .device/kit/env.sh >/dev/null
: "${OUT:?OUT}" "${CONFIGS:?CONFIGS}"
pkg=$(dirname "$(find /tmp/modelship-gpu/artifacts/packages/shapes-resnet -path '*fp16*' -name metadata.json | head -1)")
eval "$(python3 scripts/gpu/serve-requests.py "$pkg" "$(mktemp -d)")"
if grep -q profile <<<"$CONFIGS"; then
  mkdir -p /tmp/pyspy && (cd /tmp/pyspy && python3 -m zipfile -e "$OLDPWD"/.device/extra/py_spy-*.whl . >/dev/null)
  SPY=$(find /tmp/pyspy -name py-spy -type f | head -1); chmod +x "$SPY"
fi
echo "[" > "$OUT/sweep.json"
for cfg in $CONFIGS; do
  IFS=: read -r W I C P PROF <<<"$cfg"
  name="w$W-i$I-c$C-$P"
  PYTHONPATH=toolkit python3 -m modelship_toolkit.serve --port 8300 --stable-package "$pkg" --shared-memory system --max-batch-size 64 \
    --batch-window-ms 2 --engine-instances "$I" --workers "$W" --max-queue 4096 --max-connections 1024 --log-level WARNING > /tmp/rt.out 2>/tmp/rt.err &
  RT=$!
  for _ in $(seq 240); do grep -q listening /tmp/rt.out && break; sleep 0.5; done
  grep -q listening /tmp/rt.out || { echo "$name: runtime did not start"; tail -5 /tmp/rt.err; kill $RT; continue; }
  curl -s -X POST "localhost:8300/v2/systemsharedmemory/region/$REGION/register" -d "{\"key\":\"$KEY\",\"byte_size\":$NB}" >/dev/null
  GOMAXPROCS=${LOADGEN_PROCS:-4} .device/extra/loadgen -addr 127.0.0.1:8300 -request "$([ "$P" = binary ] && echo "$REQ_BINARY" || echo "$REQ_SHM")" -c "$C" -d 8s -warmup 2s > "/tmp/$name.json" &
  LG=$!
  if [ "${PROF:-}" = profile ]; then
    sleep 3
    W0=$(python3 -c "import json;print(json.load(open('/tmp/rt.out'))['pids'][0])" 2>/dev/null || echo $RT)
    "$SPY" record -p "$W0" -d 6 -r 200 -f raw -o "$OUT/$name.pyspy.raw" --threads --nonblocking >/dev/null 2>&1
  fi
  wait $LG
  batches=$(curl -s localhost:8300/metrics | awk '/^modelship_batch_size_sum/{s+=$2} /^modelship_batch_size_count/{c+=$2} END{if(c) printf "%.1f", s/c}')
  python3 - "/tmp/$name.json" "$name" "$W" "$I" "$C" "$P" "${batches:-0}" <<'PY' | tee -a "$OUT/sweep.json"
import json, os, sys
d = json.load(open(sys.argv[1])); _, _, name, w, i, c, p, rows = sys.argv
first = open(os.environ["OUT"] + "/sweep.json").read().strip() == "["
print(("" if first else ",") + json.dumps({"config": name, "workers": int(w), "instances": int(i), "connections": int(c), "protocol": p,
      "imagesPerSec": round(d["throughputPerSec"] * 8), "p50Ms": d["p50Ms"], "p99Ms": d["p99Ms"], "errors": d["errors"],
      "meanBatchRows": float(rows)}))
PY
  grep -iE "error|warning" /tmp/rt.err | grep -v "no admin token" | head -3
  kill $RT; wait $RT 2>/dev/null
done
echo "]" >> "$OUT/sweep.json"
