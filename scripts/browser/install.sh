#!/usr/bin/env bash
# Installs the browser the UI test drives: Debian's chromium (playwright-core, an npm dependency,
# drives it; no browser download). Idempotent: a second run only prints the path.
#
# Usage: scripts/browser/install.sh     prints the browser's path on stdout (logs on stderr)
# Env:   MODELSHIP_CHROMIUM             a browser to use instead (nothing is installed)
set -euo pipefail

if [ -n "${MODELSHIP_CHROMIUM:-}" ]; then echo "$MODELSHIP_CHROMIUM"; exit 0; fi
if [ -x /usr/bin/chromium ]; then echo /usr/bin/chromium; exit 0; fi

echo "install.sh: installing Debian's chromium for the UI test" >&2
SUDO=(); [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
  || { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >&2; }
echo /usr/bin/chromium
