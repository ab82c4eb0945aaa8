#!/usr/bin/env bash
# Installs the S3-protocol server the store tests run against: Versity S3 Gateway (versitygw),
# built from source through the Go module proxy at a pinned version, into .modelship/bin/.
# Idempotent: a second run finds the binary and only prints its path.
#
# Usage: scripts/s3-server/install.sh        prints the binary's path on stdout (logs on stderr)
# Env:   MODELSHIP_BIN_DIR  where to install (default: <repo>/.modelship/bin)
set -euo pipefail
# shellcheck source=../lib/go-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-install.sh"   # sets ROOT and BIN_DIR

VERSION="v1.8.0"
MODULE="github.com/versity/versitygw/cmd/versitygw"

TARGET="$BIN_DIR/versitygw-$VERSION"

if [ -x "$TARGET" ]; then
  echo "$TARGET"
  exit 0
fi

go_install_pinned "versitygw $VERSION (about 2 minutes on 2 cores the first time)" "$MODULE@$VERSION"
mv "$GO_BUILD_DIR/versitygw" "$TARGET"
ln -sfn "versitygw-$VERSION" "$BIN_DIR/versitygw"
go_install_done "$TARGET"
echo "$TARGET"
