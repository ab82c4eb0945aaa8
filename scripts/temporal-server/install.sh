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
# shellcheck source=../lib/go-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-install.sh"   # sets ROOT and BIN_DIR

VERSION="v1.30.8"
MODULE="go.temporal.io/server"

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

go_install_pinned "the Temporal server $VERSION and its SQL tool (about 3 minutes on 2 cores the first time, module downloads included)" \
  "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION"
mv "$GO_BUILD_DIR/sql" "$GO_BUILD_DIR/temporal-sql-tool"
SRC="$(go env GOMODCACHE)/$MODULE@$VERSION/schema/postgresql/v12"
mkdir -p "$GO_BUILD_DIR/schema"
cp -r "$SRC/temporal" "$SRC/visibility" "$GO_BUILD_DIR/schema/"
chmod -R u+w "$GO_BUILD_DIR/schema"
rm -rf "$TARGET"
mv "$GO_BUILD_DIR" "$TARGET"
trap - EXIT
go_install_done "$TARGET"
echo "$TARGET"
