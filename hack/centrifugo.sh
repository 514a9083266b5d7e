#!/usr/bin/env bash
# Centrifugo, a peer to compare live fan-out with (hack/bench-cluster.sh), built from
# the Go module proxy and run on loopback with a configuration made for the fanout
# benchmark of test/bench/loadgen. Each subcommand is idempotent.
#
#   bash hack/centrifugo.sh build        install Centrifugo into .cache/bin/centrifugo (once per version)
#   bash hack/centrifugo.sh start [PORT] build, write the config, start it on 127.0.0.1:PORT
#                                        (default 8000), wait until it answers, print its pid
#   bash hack/centrifugo.sh stop         stop it (SIGTERM, SIGKILL after 10 s)
#   bash hack/centrifugo.sh key          print the server API key (for loadgen -api-key)
#
# The configuration (written at each start): unidirectional SSE on
# /connection/uni_sse, anonymous connections without a token
# (client.allow_anonymous_connect_without_token), channels without a namespace open
# to anonymous subscribers (channel.without_namespace.allow_subscribe_for_client and
# allow_subscribe_for_anonymous), so that a listener subscribes by naming the
# channel in its connect request (cf_connect={"subs":{"orders":{}}}), and the HTTP
# server API (/api/publish, header X-API-Key) protected by a random key; /health on
# for the start-up check, usage stats off. Only for benchmarks on loopback. Config,
# key, log and pid file live in LATTICE_CENTRIFUGO_DIR (default .cache/centrifugo);
# LATTICE_CENTRIFUGO_VERSION (default v6.9.1) picks the module version. A binary
# built so reports version 0.0.0 and logs a warning that it is a development build
# (releases set the version with -ldflags); the stamp .cache/bin/.centrifugo.version
# records the module version.
source "$(dirname "$0")/lib.sh"

VERSION="${LATTICE_CENTRIFUGO_VERSION:-v6.9.1}"
MODULE=github.com/centrifugal/centrifugo/v6
mkdir -p "${LATTICE_CENTRIFUGO_DIR:-$CACHE/centrifugo}"
DIR="$(cd "${LATTICE_CENTRIFUGO_DIR:-$CACHE/centrifugo}" && pwd)"
PIDFILE="$DIR/centrifugo.pid"
KEYFILE="$DIR/api.key"
CONFIG="$DIR/config.json"
LOGFILE="$DIR/centrifugo.log"

die() { echo "centrifugo: $*" >&2; exit 1; }

usage() {
  echo "usage: bash hack/centrifugo.sh build | start [PORT] | stop | key" >&2
  exit 2
}

# build installs the module's main package with go install (the module has no replace
# directives, so it installs as a dependency would); the stamp keeps the version.
build() { go_tool centrifugo "$MODULE" "$VERSION"; }

# pid prints Centrifugo's pid if it runs (and is ours: its command line names our binary).
pid() {
  local p
  [[ -f $PIDFILE ]] || return 1
  p="$(cat "$PIDFILE")"
  if [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$BIN/centrifugo"; then
    echo "$p"
    return 0
  fi
  rm -f "$PIDFILE"
  return 1
}

# write_config PORT: the benchmark's configuration, readable only by you.
write_config() {
  if [[ ! -s $KEYFILE ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$KEYFILE")
  fi
  (
    umask 077
    cat <<EOF
{
  "log": {"level": "warn"},
  "http_server": {"address": "127.0.0.1", "port": $1},
  "http_api": {"key": "$(cat "$KEYFILE")"},
  "uni_sse": {"enabled": true},
  "health": {"enabled": true},
  "usage_stats": {"disabled": true},
  "client": {"allow_anonymous_connect_without_token": true},
  "channel": {
    "without_namespace": {"allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true}
  }
}
EOF
  ) >"$CONFIG"
}

# answers PORT: Centrifugo's health endpoint answers 200.
answers() { [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health")" == 200 ]]; }

cmd_start() {
  local port=${1:-8000} p deadline
  [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || die "PORT must be a port number, not '$port'"
  if p=$(pid); then
    log "centrifugo already runs (pid $p); stop it first to change its port"
    echo "$p"
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is in use by another process"
  fi
  build
  write_config "$port"
  log "starting centrifugo $VERSION on 127.0.0.1:$port (log $LOGFILE)"
  (exec setsid nohup "$BIN/centrifugo" --config "$CONFIG" </dev/null >>"$LOGFILE" 2>&1) &
  echo $! >"$PIDFILE"
  deadline=$((SECONDS + 30))
  until answers "$port"; do
    pid >/dev/null || die "centrifugo exited while starting; see $LOGFILE"
    ((SECONDS < deadline)) || die "centrifugo not ready after 30s; see $LOGFILE"
    sleep 0.2
  done
  pid
}

cmd_stop() {
  local p deadline=$((SECONDS + 10))
  p=$(pid) || return 0
  log "stopping centrifugo (pid $p)"
  kill -TERM "$p" 2>/dev/null || true
  while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
}

cmd_key() {
  [[ -s $KEYFILE ]] || die "no key yet; run: bash hack/centrifugo.sh start"
  cat "$KEYFILE"
}

case ${1:-} in
  build) (($# == 1)) || usage; build ;;
  start) (($# <= 2)) || usage; cmd_start "${2:-}" ;;
  stop) (($# == 1)) || usage; cmd_stop ;;
  key) (($# == 1)) || usage; cmd_key ;;
  *) usage ;;
esac
