#!/usr/bin/env bash
# The cluster's performance figures, from test/bench/loadgen against a local cluster
# of its own (hack/cluster.sh: Redis, FerretDB, three `lattice serve` replicas with
# JWT auth) and, when it builds here, Centrifugo (hack/centrifugo.sh):
#
#   cross   push through replica 1, streams on replica 3: push's 200 -> event on the other replica
#   push    the same pushes through replica 1 alone and round-robin through all three
#           (one store), alternating 1,3,3,1,1,3,... so that the machine's drift cancels
#   fanout  many listeners on replica 1, events pushed there: deliveries/s and delays
#   fanout  the same against Centrifugo (uni_sse listeners, /api/publish)
#
# Each figure is printed under the exact command that measured it ($TOKEN is
# `LATTICE_CLUSTER_DIR=... LATTICE_CLUSTER_PORT=... bash hack/cluster.sh token`,
# $CENTRIFUGO_KEY `LATTICE_CENTRIFUGO_DIR=... bash hack/centrifugo.sh key`; both
# printed at the start). The cluster and Centrifugo are stopped on exit.
#
# 10,000 listeners need as many descriptors in the load generator and in the server:
# the script raises the open-file limit (ulimit -n LATTICE_BENCH_NOFILE, default
# 65536, which needs CAP_SYS_RESOURCE to pass the hard limit; without it, up to the
# hard limit, with a warning if that is below the listeners' need) before it starts
# anything, and restarts the cluster so that its processes inherit it.
#
# Environment (defaults finish in a few minutes after the builds):
#   LATTICE_CLUSTER_DIR   (.cache/bench-cluster)  the cluster's state; its data is wiped
#                         at each run when the directory is one this script made
#   LATTICE_CLUSTER_PORT  (18181)  replicas on PORT..PORT+2, Redis PORT+10, FerretDB PORT+11
#   LATTICE_BENCH_CENTRIFUGO_PORT (18200); LATTICE_BENCH_CENTRIFUGO=0 skips Centrifugo
#   LATTICE_BENCH_CROSS_LISTENERS (200), _CROSS_RATE (100/s), _CROSS_WRITES (500)
#   LATTICE_BENCH_PUSH_WRITERS (4), _PUSH_BATCH (100), _PUSH_TOTAL (20000), _PUSH_ROUNDS (3)
#   LATTICE_BENCH_FANOUT_LISTENERS (10000), _FANOUT_EVENTS (200), _FANOUT_RATE (50/s)
#   LATTICE_BENCH_STEPS   (cross,push,fanout,centrifugo)  which steps to run
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

die() { echo "bench-cluster: $*" >&2; exit 1; }

export LATTICE_CLUSTER_DIR="${LATTICE_CLUSTER_DIR:-$CACHE/bench-cluster}"
export LATTICE_CLUSTER_PORT="${LATTICE_CLUSTER_PORT:-18181}"
export LATTICE_CENTRIFUGO_DIR="$LATTICE_CLUSTER_DIR/centrifugo"
CENTRIFUGO_PORT="${LATTICE_BENCH_CENTRIFUGO_PORT:-18200}"
NOFILE="${LATTICE_BENCH_NOFILE:-65536}"
STEPS=",${LATTICE_BENCH_STEPS:-cross,push,fanout,centrifugo},"
CROSS_LISTENERS="${LATTICE_BENCH_CROSS_LISTENERS:-200}"
CROSS_RATE="${LATTICE_BENCH_CROSS_RATE:-100}"
CROSS_WRITES="${LATTICE_BENCH_CROSS_WRITES:-500}"
PUSH_WRITERS="${LATTICE_BENCH_PUSH_WRITERS:-4}"
PUSH_BATCH="${LATTICE_BENCH_PUSH_BATCH:-100}"
PUSH_TOTAL="${LATTICE_BENCH_PUSH_TOTAL:-20000}"
PUSH_ROUNDS="${LATTICE_BENCH_PUSH_ROUNDS:-3}"
FANOUT_LISTENERS="${LATTICE_BENCH_FANOUT_LISTENERS:-10000}"
FANOUT_EVENTS="${LATTICE_BENCH_FANOUT_EVENTS:-200}"
FANOUT_RATE="${LATTICE_BENCH_FANOUT_RATE:-50}"
for v in LATTICE_CLUSTER_PORT CENTRIFUGO_PORT NOFILE CROSS_LISTENERS CROSS_RATE CROSS_WRITES PUSH_WRITERS \
  PUSH_BATCH PUSH_TOTAL PUSH_ROUNDS FANOUT_LISTENERS FANOUT_EVENTS FANOUT_RATE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number, not '${!v}'"
done

R1="http://127.0.0.1:$LATTICE_CLUSTER_PORT"
R2="http://127.0.0.1:$((LATTICE_CLUSTER_PORT + 1))"
R3="http://127.0.0.1:$((LATTICE_CLUSTER_PORT + 2))"
CLUSTER=(bash "$ROOT/hack/cluster.sh")
tmp=$(mktemp -d)
centrifugo_started=

cleanup() {
  set +e
  [[ -z $centrifugo_started ]] || bash "$ROOT/hack/centrifugo.sh" stop
  "${CLUSTER[@]}" down
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { [[ $STEPS == *",$1,"* ]]; }

# raise_nofile: as many descriptors as 10,000 streams need, for this shell and all
# it starts (the cluster, Centrifugo, the load generator).
raise_nofile() {
  ulimit -n "$NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  log "open-file limit: $(ulimit -n)"
  if (($(ulimit -n) < FANOUT_LISTENERS + 512)); then
    log "warning: the open-file limit $(ulimit -n) is below what $FANOUT_LISTENERS listeners need; run as root or raise the hard limit"
  fi
}

# fresh_cluster stops the cluster (so that it restarts with this shell's limit),
# wipes its data when the directory is this script's, and starts it.
fresh_cluster() {
  "${CLUSTER[@]}" down
  if [[ ! -e $LATTICE_CLUSTER_DIR/lattice.yaml || -e $LATTICE_CLUSTER_DIR/.bench-cluster ]]; then
    mkdir -p "$LATTICE_CLUSTER_DIR"
    touch "$LATTICE_CLUSTER_DIR/.bench-cluster"
    rm -rf "$LATTICE_CLUSTER_DIR/mongo" "$LATTICE_CLUSTER_DIR/redis"
  fi
  "${CLUSTER[@]}" up >&2
}

# quote ARGS...: the arguments as a shell would need them, each after a space.
quote() {
  local a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:,=@+-]+$ ]]; then printf ' %s' "$a"; else printf ' %q' "$a"; fi
  done
}

# figure TITLE ARGS...: prints TITLE and the command (secrets as variables), runs the
# load generator with ARGS and prints its output. A failed step is reported at the
# end; the others still run.
failed=()
figure() {
  local title=$1 shown
  shift
  shown="go run ./test/bench/loadgen$(quote "$@")"
  shown="${shown//"$TOKEN"/\$TOKEN}"
  [[ -z ${KEY:-} ]] || shown="${shown//"$KEY"/\$CENTRIFUGO_KEY}"
  printf '\n## %s\n$ %s\n' "$title" "$shown"
  if ! "$tmp/loadgen" "$@" 2>&1 | tee -a "$tmp/figures"; then
    failed+=("$title")
  fi
}

# push_summary NODES: the mutations/s of every push run through NODES node(s).
push_summary() {
  grep -o "via $1 node(s): .* = [0-9.]* k mutations/s" "$tmp/figures" | sed 's/.* = //; s/ k mutations\/s//' | paste -sd' ' -
}

raise_nofile
fresh_cluster
log "building the load generator"
go build -o "$tmp/loadgen" ./test/bench/loadgen
TOKEN=$("${CLUSTER[@]}" token)
KEY=
: >"$tmp/figures"
cat <<EOF

# Lattice cluster figures ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet 2>/dev/null || echo ' + changes'))
Replicas $R1 $R2 $R3; open-file limit $(ulimit -n).
TOKEN=\$(LATTICE_CLUSTER_DIR=$LATTICE_CLUSTER_DIR LATTICE_CLUSTER_PORT=$LATTICE_CLUSTER_PORT bash hack/cluster.sh token)
EOF

if step cross; then
  figure "cross-replica delivery: push via replica 1, $CROSS_LISTENERS streams on replica 3" \
    cross -push-url "$R1" -listen-url "$R3" -listeners "$CROSS_LISTENERS" -rate "$CROSS_RATE" -writes "$CROSS_WRITES" -token "$TOKEN"
fi

if step push; then
  for ((r = 1; r <= PUSH_ROUNDS; r++)); do
    order=("$R1" "$R1,$R2,$R3")
    ((r % 2 == 1)) || order=("$R1,$R2,$R3" "$R1")
    for urls in "${order[@]}"; do
      figure "push, round $r/$PUSH_ROUNDS, via $(tr -cd , <<<"$urls" | wc -c | awk '{print $1 + 1}') replica(s)" \
        push -urls "$urls" -writers "$PUSH_WRITERS" -batch "$PUSH_BATCH" -total "$PUSH_TOTAL" -token "$TOKEN"
    done
  done
  printf '\n## push summary (k mutations/s per run)\nvia 1 replica:  %s\nvia 3 replicas: %s\n' "$(push_summary 1)" "$(push_summary 3)"
fi

if step fanout; then
  figure "fan-out: $FANOUT_LISTENERS listeners on replica 1" \
    fanout -target lattice -url "$R1" -listeners "$FANOUT_LISTENERS" -events "$FANOUT_EVENTS" -rate "$FANOUT_RATE" -token "$TOKEN"
fi

if step centrifugo && [[ ${LATTICE_BENCH_CENTRIFUGO:-1} != 0 ]]; then
  if bash hack/centrifugo.sh build; then
    centrifugo_started=1
    log "centrifugo pid $(bash hack/centrifugo.sh start "$CENTRIFUGO_PORT")"
    KEY=$(bash hack/centrifugo.sh key)
    echo
    echo "CENTRIFUGO_KEY=\$(LATTICE_CENTRIFUGO_DIR=$LATTICE_CENTRIFUGO_DIR bash hack/centrifugo.sh key)"
    figure "fan-out: $FANOUT_LISTENERS listeners on Centrifugo $(cat "$BIN/.centrifugo.version") (uni_sse, same machine, same run)" \
      fanout -target centrifugo -url "http://127.0.0.1:$CENTRIFUGO_PORT" -listeners "$FANOUT_LISTENERS" \
      -events "$FANOUT_EVENTS" -rate "$FANOUT_RATE" -api-key "$KEY"
  else
    printf '\n## fan-out against Centrifugo: skipped (hack/centrifugo.sh build failed, see above)\n'
  fi
fi

if ((${#failed[@]})); then
  printf '\nFAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
