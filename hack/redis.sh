#!/usr/bin/env bash
# Installs Debian's redis-server (and redis-cli with it) when redis-server is missing,
# for the fanout tests and the local cluster. Idempotent and silent when installed.
source "$(dirname "$0")/lib.sh"
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  exit 0
fi
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  sudo=(sudo)
fi
log "installing redis-server (apt-get)"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
command -v redis-server >/dev/null || { echo "redis.sh: redis-server still missing after apt-get install" >&2; exit 1; }
