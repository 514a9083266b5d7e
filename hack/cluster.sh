#!/usr/bin/env bash
# A local Lattice cluster on loopback: one Redis, one FerretDB (SQLite, behind the
# write-serialising proxy of hack/ferretdb) and three `lattice serve` replicas sharing
# them, with HS256 JWT auth. Each subcommand is idempotent and returns when done.
#
#   bash hack/cluster.sh up             build, then start whatever is down and wait for it
#   bash hack/cluster.sh down           stop everything (SIGTERM, SIGKILL after 10 s); data stays
#   bash hack/cluster.sh status         one line per process: name, pid, up/down, address
#   bash hack/cluster.sh kill N         kill -9 replica N (1-3)
#   bash hack/cluster.sh start N        start replica N if it is down
#   bash hack/cluster.sh restart-redis  kill -9 Redis and start it again, empty
#   bash hack/cluster.sh token          print a JWT (scope *) for the cluster's tenant
#   bash hack/cluster.sh logs N|redis|mongo
#
# Ports (PORT = LATTICE_CLUSTER_PORT, default 8081):
#   replicas  127.0.0.1:PORT, PORT+1, PORT+2
#   Redis     127.0.0.1:PORT+10   (LATTICE_CLUSTER_REDIS_PORT overrides)
#   FerretDB  127.0.0.1:PORT+11   (LATTICE_CLUSTER_MONGO_PORT overrides)
# Tenant: LATTICE_CLUSTER_TENANT (default local). Collections: any name (last-writer-wins
# fields), and workorders with a counter (hours), a set (tags) and text (notes).
# LATTICE_CLUSTER_MAXLEN sets fanout.maxLen (tests of trimmed history) when the
# cluster's config is first written. Binaries, secret, config, data, logs
# (logs/*.log) and pid files (run/*.pid) live in LATTICE_CLUSTER_DIR (default
# .cache/cluster). Redis runs without persistence; FerretDB's data is kept in mongo/.
source "$(dirname "$0")/lib.sh"

die() { echo "cluster: $*" >&2; exit 1; }

# number NAME VALUE: checks that VALUE is a port number before it reaches arithmetic.
number() { [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] || die "$1 must be a port number, not '$2'"; }

PORT="${LATTICE_CLUSTER_PORT:-8081}"
number LATTICE_CLUSTER_PORT "$PORT"
REDIS_PORT="${LATTICE_CLUSTER_REDIS_PORT:-$((PORT + 10))}"
MONGO_PORT="${LATTICE_CLUSTER_MONGO_PORT:-$((PORT + 11))}"
number LATTICE_CLUSTER_REDIS_PORT "$REDIS_PORT"
number LATTICE_CLUSTER_MONGO_PORT "$MONGO_PORT"
TENANT="${LATTICE_CLUSTER_TENANT:-local}"
MAXLEN="${LATTICE_CLUSTER_MAXLEN:-}"
[[ -z $MAXLEN || $MAXLEN =~ ^[1-9][0-9]{2,8}$ ]] || die "LATTICE_CLUSTER_MAXLEN must be a number >= 100, not '$MAXLEN'"
TIMEOUT=60
REPLICAS=(1 2 3)
mkdir -p "${LATTICE_CLUSTER_DIR:-$CACHE/cluster}"
DIR="$(cd "${LATTICE_CLUSTER_DIR:-$CACHE/cluster}" && pwd)"
CBIN="$DIR/bin"
SECRET="$DIR/hs256.secret"
CONFIG="$DIR/lattice.yaml"

usage() {
  cat >&2 <<'EOF'
usage: bash hack/cluster.sh <command>
  up             build, then start whatever is down (Redis, FerretDB, 3 replicas) and wait
  down           stop everything (SIGTERM, SIGKILL after 10 s); data stays
  status         one line per process: name, pid, up/down, address
  kill N         kill -9 replica N (1-3)
  start N        start replica N if it is down
  restart-redis  kill -9 Redis and start it again, empty
  token          print a JWT (scope *) for the cluster's tenant
  logs N|redis|mongo
                 print a replica's, Redis's or FerretDB's log
Environment: LATTICE_CLUSTER_DIR, LATTICE_CLUSTER_PORT (8081), LATTICE_CLUSTER_TENANT (local),
LATTICE_CLUSTER_REDIS_PORT (PORT+10), LATTICE_CLUSTER_MONGO_PORT (PORT+11),
LATTICE_CLUSTER_MAXLEN (fanout.maxLen, when the config is first written).
EOF
  exit 2
}

pidfile() { echo "$DIR/run/$1.pid"; }
logfile() { echo "$DIR/logs/$1.log"; }
replica_port() { echo $((PORT + $1 - 1)); }

# address NAME: where the process listens.
address() {
  case $1 in
    redis) echo "redis://127.0.0.1:$REDIS_PORT/0" ;;
    mongo) echo "mongodb://127.0.0.1:$MONGO_PORT/" ;;
    replica-*) echo "http://127.0.0.1:$(replica_port "${1#replica-}")" ;;
  esac
}

# expected NAME: a string the process's command line contains (guards against a pid
# file whose pid now belongs to another program).
expected() {
  case $1 in
    redis) echo "redis-server" ;;
    mongo) echo "$CBIN/ferretdb" ;;
    replica-*) echo "$CBIN/lattice" ;;
  esac
}

# alive PID: the process exists and is not a zombie.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ ! -r /proc/$1/stat ]] || [[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# pid_of NAME: prints the pid of NAME if it runs; removes a stale pid file.
pid_of() {
  local f pid
  f="$(pidfile "$1")"
  [[ -f $f ]] || return 1
  pid="$(cat "$f")"
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && { [[ ! -r /proc/$pid/cmdline ]] ||
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$(expected "$1")"; }; then
    echo "$pid"
    return 0
  fi
  rm -f "$f"
  return 1
}

# launch NAME CMD...: starts CMD in its own session, detached, output appended to
# NAME's log, and records its pid. LATTICE_* variables of the caller are not passed on.
# The process writes its own pid (setsid forks when it would lead a process group,
# so $! is not always the process), then execs CMD under that pid.
launch() {
  local name=$1 pidf
  shift
  pidf="$(pidfile "$name")"
  rm -f "$pidf"
  (
    while read -r v; do unset "$v"; done < <(compgen -e | grep '^LATTICE_' || true)
    [[ $name != replica-* ]] || export LATTICE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    exec setsid nohup bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
      </dev/null >>"$(logfile "$name")" 2>&1
  ) &
  local deadline=$((SECONDS + 10))
  until [[ -s $pidf ]]; do
    ((SECONDS < deadline)) || die "$name did not start; see $(logfile "$name")"
    sleep 0.05
  done
}

# wait_for NAME CHECK...: waits until CHECK succeeds, failing if NAME dies or TIMEOUT passes.
wait_for() {
  local name=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@"; do
    pid_of "$name" >/dev/null || die "$name exited while starting; see $(logfile "$name")"
    ((SECONDS < deadline)) || die "$name not ready after ${TIMEOUT}s; see $(logfile "$name")"
    sleep 0.2
  done
  pid_of "$name" >/dev/null || die "$name exited while starting; see $(logfile "$name")"
}

# port_free NAME PORT: fails if something else already listens on 127.0.0.1:PORT, so
# that another cluster's process is not taken for NAME.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
    die "127.0.0.1:$2 (for $1) is in use by another process; stop it or choose other ports (LATTICE_CLUSTER_PORT)"
  fi
}

redis_ready() { [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
healthy() { [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$(address "replica-$1")/healthz")" == 200 ]]; }
# mongo_ready OFFSET: the mongo log has a ready line after byte OFFSET.
mongo_ready() { tail -c +$(($1 + 1)) "$(logfile mongo)" 2>/dev/null | grep -q '^ready mongodb://'; }

start_redis() {
  pid_of redis >/dev/null && return 0
  port_free redis "$REDIS_PORT"
  mkdir -p "$DIR/redis"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  launch redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$DIR/redis" --daemonize no
  wait_for redis redis_ready
}

start_mongo() {
  pid_of mongo >/dev/null && return 0
  local offset
  port_free mongo "$MONGO_PORT"
  offset=$(stat -c %s "$(logfile mongo)" 2>/dev/null || echo 0)
  log "starting ferretdb on 127.0.0.1:$MONGO_PORT"
  launch mongo "$CBIN/ferretdb" -listen "127.0.0.1:$MONGO_PORT" -dir "$DIR/mongo"
  wait_for mongo mongo_ready "$offset"
}

# launch_replica N: starts replica N unless it runs (does not wait).
launch_replica() {
  pid_of "replica-$1" >/dev/null && return 0
  port_free "replica-$1" "$(replica_port "$1")"
  log "starting replica-$1 on 127.0.0.1:$(replica_port "$1")"
  launch "replica-$1" "$CBIN/lattice" serve --listen "127.0.0.1:$(replica_port "$1")" \
    --mongodb-uri "mongodb://127.0.0.1:$MONGO_PORT/" --tenant "$TENANT" --config "$CONFIG"
}

start_replica() {
  launch_replica "$1"
  wait_for "replica-$1" healthy "$1"
}

build() {
  log "building lattice and ferretdb into $CBIN"
  mkdir -p "$CBIN"
  (cd "$ROOT" && go build -o "$CBIN/.lattice.new" ./cmd/lattice && go build -o "$CBIN/.ferretdb.new" ./hack/ferretdb)
  mv -f "$CBIN/.lattice.new" "$CBIN/lattice"
  mv -f "$CBIN/.ferretdb.new" "$CBIN/ferretdb"
}

# ensure_config writes the HS256 secret and the nodes' config once, readable only by you.
ensure_config() {
  if [[ ! -s $SECRET ]]; then
    (umask 077 && head -c 48 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$SECRET")
  fi
  if [[ ! -s $CONFIG ]]; then
    (
      umask 077
      printf 'autoCollections: true\nauth:\n  mode: jwt\n  hs256Secret: "%s"\n' "$(cat "$SECRET")"
      printf 'collections:\n  workorders:\n    fields: {hours: counter, tags: set, notes: text}\n'
      # One token serves every test client and benchmark listener: allow it many streams.
      printf 'limits:\n  maxStreamsPerSubject: 20000\n'
      [[ -z $MAXLEN ]] || printf 'fanout:\n  maxLen: %s\n' "$MAXLEN"
    ) >"$CONFIG"
  fi
}

need_built() {
  [[ -x $CBIN/lattice && -x $CBIN/ferretdb && -s $CONFIG ]] || die "no cluster in $DIR yet; run: bash hack/cluster.sh up"
}

cmd_up() {
  mkdir -p "$DIR/run" "$DIR/logs"
  build
  bash "$ROOT/hack/redis.sh"
  ensure_config
  start_redis
  start_mongo
  for n in "${REPLICAS[@]}"; do launch_replica "$n"; done
  for n in "${REPLICAS[@]}"; do wait_for "replica-$n" healthy "$n"; done
  summary
}

summary() {
  cmd_status
  cat <<EOF

Lattice cluster up: tenant $TENANT, state in $DIR
  token:  TOKEN=\$(bash hack/cluster.sh token)
  push:   curl -H "Authorization: Bearer \$TOKEN" -H 'Lattice-Client: tablet-7' -d '{"mutations":[{"id":"wo-42","mid":1,"set":{"status":"open"}}]}' $(address replica-1)/v1/collections/orders/push
  stream: curl -N -H "Authorization: Bearer \$TOKEN" '$(address replica-3)/v1/stream?collections=orders'
  stop:   bash hack/cluster.sh down
(run the token and other subcommands with the same LATTICE_CLUSTER_* variables)
EOF
}

# stop NAME...: SIGTERM, then SIGKILL for whatever still runs after 10 s.
stop() {
  local name pid deadline=$((SECONDS + 10)) pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      log "pid $pid ignored SIGTERM for 10s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      gone "$pid"
    fi
  done
  for name in "$@"; do rm -f "$(pidfile "$name")"; done
}

# gone PID: waits until PID has exited.
gone() { while alive "$1"; do sleep 0.05; done; }

cmd_down() {
  stop replica-1 replica-2 replica-3
  stop mongo redis
}

cmd_status() {
  local name pid state
  for name in redis mongo replica-1 replica-2 replica-3; do
    pid=$(pid_of "$name") && state=up || { pid=-; state=down; }
    printf '%-10s %-8s %-5s %s\n' "$name" "$pid" "$state" "$(address "$name")"
  done
}

# replica N: checks that N names a replica.
replica() { [[ ${1:-} =~ ^[1-3]$ ]] || usage; }

cmd_kill() {
  replica "${1:-}"
  local pid
  if ! pid=$(pid_of "replica-$1"); then
    log "replica-$1 is not running"
    return 0
  fi
  kill -KILL "$pid"
  gone "$pid"
  rm -f "$(pidfile "replica-$1")"
  log "replica-$1 (pid $pid) killed"
}

cmd_start() {
  replica "${1:-}"
  need_built
  start_replica "$1"
  log "replica-$1 up at $(address "replica-$1")"
}

cmd_restart_redis() {
  need_built
  local pid
  if pid=$(pid_of redis); then
    kill -KILL "$pid"
    gone "$pid"
    rm -f "$(pidfile redis)"
    log "redis (pid $pid) killed"
  fi
  start_redis
  log "redis up at $(address redis)"
}

cmd_token() {
  need_built
  "$CBIN/lattice" token --secret-file "$SECRET" --tenant "$TENANT"
}

cmd_logs() {
  local name
  case ${1:-} in
    redis | mongo) name=$1 ;;
    [1-3]) name="replica-$1" ;;
    *) usage ;;
  esac
  [[ -f "$(logfile "$name")" ]] || die "no log yet: $(logfile "$name")"
  cat "$(logfile "$name")"
}

main() {
  mkdir -p "$DIR/run" "$DIR/logs"
  local cmd=${1:-}
  shift || true
  case $cmd in
    up | down | status | token) (($# == 0)) || usage ;;
    kill | start | logs) (($# == 1)) || usage ;;
    restart-redis) (($# == 0)) || usage ;;
    *) usage ;;
  esac
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kill) cmd_kill "$1" ;;
    start) cmd_start "$1" ;;
    restart-redis) cmd_restart_redis ;;
    token) cmd_token ;;
    logs) cmd_logs "$1" ;;
  esac
}

main "$@"
