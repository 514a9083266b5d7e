#!/usr/bin/env bash
# Prints the figures BENCHMARKS.md records (each section there names its command).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
go test -run '^$' -bench . -benchmem -count 1 ./crdt/...
go run ./test/bench/textbench
go test -run '^$' -bench . -benchtime 3x -count 1 ./syncnode/httpapi ./syncnode/store/...

# The load generator against a node of its own (a fresh data directory, a free port).
tmp=$(mktemp -d)
go build -o "$tmp/lattice" ./cmd/lattice
go build -o "$tmp/loadgen" ./test/bench/loadgen
port=18080
"$tmp/lattice" dev --data-dir "$tmp/data" --listen "127.0.0.1:$port" >"$tmp/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$tmp/loadgen" idle -url "http://127.0.0.1:$port" -pid "$node" -listeners 1000
"$tmp/loadgen" live -url "http://127.0.0.1:$port" -listeners 200 -rate 100 -writes 500
