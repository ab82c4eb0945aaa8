#!/usr/bin/env bash
# Installs the S3-protocol server the store tests run against: Versity S3 Gateway (versitygw),
# built from source through the Go module proxy at a pinned version, into .modelship/bin/.
# Idempotent: a second run finds the binary and only prints its path.
#
# Usage: scripts/s3-server/install.sh        prints the binary's path on stdout (logs on stderr)
# Env:   MODELSHIP_BIN_DIR  where to install (default: <repo>/.modelship/bin)
set -euo pipefail

VERSION="v1.8.0"
MODULE="github.com/versity/versitygw/cmd/versitygw"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${MODELSHIP_BIN_DIR:-$ROOT/.modelship/bin}"
TARGET="$BIN_DIR/versitygw-$VERSION"

if [ -x "$TARGET" ]; then
  echo "$TARGET"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install.sh: Go is needed to build versitygw $VERSION (https://go.dev/dl/); none on PATH" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
BUILD_DIR="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$BUILD_DIR"' EXIT

echo "install.sh: building versitygw $VERSION (about 2 minutes on 2 cores the first time)" >&2
start=$SECONDS
GOBIN="$BUILD_DIR" GOFLAGS=-mod=mod go install "$MODULE@$VERSION" >&2
mv "$BUILD_DIR/versitygw" "$TARGET"
ln -sfn "versitygw-$VERSION" "$BIN_DIR/versitygw"
echo "install.sh: built $TARGET in $((SECONDS - start))s" >&2
echo "$TARGET"
