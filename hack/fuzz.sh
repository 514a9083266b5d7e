#!/usr/bin/env bash
# Runs every fuzz target of the repository for FUZZTIME (default 30s) each.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
FUZZTIME="${FUZZTIME:-30s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    log "fuzz $pkg $target for $FUZZTIME"
    go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done
