#!/usr/bin/env bash
# Shared helpers for hack/ scripts. Everything is cached under .cache/ (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/bin"
mkdir -p "$BIN"
export PATH="$BIN:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { printf '[hack] %s\n' "$*" >&2; }

# go_tool NAME PKG VERSION: installs a Go tool at an exact version into .cache/bin,
# once (a stamp file records the version).
go_tool() {
  local name=$1 pkg=$2 version=$3 stamp="$BIN/.$1.version"
  if [[ -x "$BIN/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
    return 0
  fi
  log "installing $name $version (go install $pkg@$version)"
  GOBIN="$BIN" CGO_ENABLED=0 go install "$pkg@$version"
  echo "$version" >"$stamp"
}
