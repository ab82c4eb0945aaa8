#!/usr/bin/env bash
# Installs what a real Temporal cluster on PostgreSQL needs (issue 14): Debian's PostgreSQL server,
# and the Temporal server and its SQL schema tool built from source through the Go module proxy at a
# pinned version, with the version's PostgreSQL schemas, into .modelship/bin/temporal-server-<v>/.
# Idempotent: a second run finds them and only prints the folder.
#
# Usage: scripts/temporal-server/install.sh   prints the folder (server, temporal-sql-tool, schema/) on stdout
# Env:   MODELSHIP_BIN_DIR  where to install (default: <repo>/.modelship/bin)
#
# v1.30.8 is the newest server whose go.mod this machine's Go (1.26.8) accepts: 1.30.9 and 1.31.x
# ask for Go 1.26.10. Worker Versioning (deployments with build IDs) needs >= 1.29.1.
set -euo pipefail

VERSION="v1.30.8"
MODULE="go.temporal.io/server"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${MODELSHIP_BIN_DIR:-$ROOT/.modelship/bin}"
TARGET="$BIN_DIR/temporal-server-$VERSION"

# PostgreSQL: Debian's package (the server binaries live in /usr/lib/postgresql/<major>/bin).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install.sh: PostgreSQL is not installed; run as root, or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "install.sh: installing Debian's postgresql" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
fi

if [ -x "$TARGET/server" ] && [ -x "$TARGET/temporal-sql-tool" ] && [ -d "$TARGET/schema/temporal" ]; then
  echo "$TARGET"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install.sh: Go is needed to build the Temporal server $VERSION (https://go.dev/dl/); none on PATH" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
BUILD_DIR="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$BUILD_DIR"' EXIT

echo "install.sh: building the Temporal server $VERSION and its SQL tool (about 3 minutes on 2 cores the first time, module downloads included)" >&2
start=$SECONDS
GOBIN="$BUILD_DIR" GOFLAGS="-mod=mod -buildvcs=false" go install "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION" >&2
mv "$BUILD_DIR/sql" "$BUILD_DIR/temporal-sql-tool"
SRC="$(go env GOMODCACHE)/$MODULE@$VERSION/schema/postgresql/v12"
mkdir -p "$BUILD_DIR/schema"
cp -r "$SRC/temporal" "$SRC/visibility" "$BUILD_DIR/schema/"
chmod -R u+w "$BUILD_DIR/schema"
rm -rf "$TARGET"
mv "$BUILD_DIR" "$TARGET"
trap - EXIT
echo "install.sh: built $TARGET in $((SECONDS - start))s" >&2
echo "$TARGET"
