# Shared by the install scripts that build a pinned tool from source through the Go module proxy.
# Source it (it sets ROOT, the repository, and BIN_DIR, $MODELSHIP_BIN_DIR or <repo>/.modelship/bin),
# then: go_install_pinned WHAT PKG@VERSION...
#   checks that Go is there, makes a temporary build folder under $BIN_DIR (removed on exit unless
#   the caller moves it), runs `go install` into it and says how long it took.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${MODELSHIP_BIN_DIR:-$ROOT/.modelship/bin}"

# go_install_pinned <what> <package@version>...  → sets GO_BUILD_DIR (the binaries are in it)
go_install_pinned() {
  local what=$1; shift
  if ! command -v go >/dev/null 2>&1; then
    echo "install.sh: Go is needed to build $what (https://go.dev/dl/); none on PATH" >&2
    exit 1
  fi
  mkdir -p "$BIN_DIR"
  GO_BUILD_DIR="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  trap 'rm -rf "$GO_BUILD_DIR"' EXIT
  echo "install.sh: building $what" >&2
  GO_BUILD_STARTED=$SECONDS
  GOBIN="$GO_BUILD_DIR" GOFLAGS="-mod=mod -buildvcs=false" go install "$@" >&2
}

# go_install_done <target>: reports the build time (call after moving the binaries to <target>).
go_install_done() {
  echo "install.sh: built $1 in $((SECONDS - GO_BUILD_STARTED))s" >&2
}
