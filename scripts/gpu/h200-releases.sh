#!/usr/bin/env bash
# Repeats the whole GPU release story on the GPU machine, from the project's root, once the device
# kit has unpacked (../shared/device-kit: pack.sh --stack, then assemble.sh):
#
#   bash scripts/gpu/h200-releases.sh start [HOME] [--quick | --any-model all|NAME,...]  # starts scripts/gpu/h200-releases.ts detached
#   bash scripts/gpu/h200-releases.sh wait [SECONDS] # follows its log until it ends or SECONDS pass
#   bash scripts/gpu/h200-releases.sh pack DEST      # results.tar.gz of what it wrote, into DEST
#
# The run outlives one device command (setsid); `wait` again in the next command. Results land in
# HOME/results (default /tmp/modelship-gpu/results).
set -uo pipefail
cd "$(dirname "$0")/../.."
HOME_DIR=${MODELSHIP_GPU_HOME:-/tmp/modelship-gpu}
LOG=/tmp/modelship-gpu.log
case "${1:-}" in
  start)
    HOME_DIR=${2:-$HOME_DIR}; shift 2 2>/dev/null; EXTRA=("$@")
    source .device/kit/env.sh >/dev/null || exit 1
    mkdir -p "$HOME_DIR"
    export MODELSHIP_HOME=$HOME_DIR MODELSHIP_ARTIFACTS=$HOME_DIR/artifacts MODELSHIP_LOG_LEVEL=WARN PYTHONUNBUFFERED=1
    setsid node --import tsx scripts/gpu/h200-releases.ts --home "$HOME_DIR" "${EXTRA[@]}" </dev/null >"$LOG" 2>&1 &
    echo "started (pid $!), log $LOG"
    ;;
  wait)
    limit=${2:-500}; t=0; seen=0
    while [ "$t" -lt "$limit" ]; do
      n=$(wc -l <"$LOG"); [ "$n" -gt "$seen" ] && sed -n "$((seen + 1)),${n}p" "$LOG" && seen=$n
      grep -q '] done: ' "$LOG" && { echo "finished"; exit 0; }
      pgrep -f 'scripts/gpu/h200-releases.ts' >/dev/null || { echo "the run is not running (see above)"; exit 1; }
      sleep 5; t=$((t + 5))
    done
    echo "still running after ${limit}s"
    ;;
  pack)
    dest=${2:?pack DEST}
    cp "$LOG" "$HOME_DIR/results/driver.log" 2>/dev/null
    tar czf "$dest/results.tar.gz" -C "$HOME_DIR" results && ls -la "$dest"
    ;;
  *) echo "usage: $0 start [HOME] | wait [SECONDS] | pack DEST" >&2; exit 2 ;;
esac
