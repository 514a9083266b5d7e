#!/usr/bin/env bash
# Installs the Node dependencies of test/compat (npm ci from the committed lock),
# once: it does nothing while node_modules matches package-lock.json.
source "$(dirname "$0")/lib.sh"
dir="$ROOT/test/compat"
stamp="$dir/node_modules/.lattice-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
log "npm ci in test/compat"
(cd "$dir" && npm ci --no-audit --no-fund --cache "$CACHE/npm")
echo "$want" >"$stamp"
