#!/usr/bin/env bash
# gofmt, go vet and staticcheck (built from the Go module proxy, cached).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
go_tool staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^test/bench/node_modules') 2>/dev/null || true)
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...
log "lint clean"
