#!/usr/bin/env bash
# Prints the figures BENCHMARKS.md records (each section there names its command).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
go test -run '^$' -bench . -benchmem -count 1 ./crdt/...
go run ./test/bench/textbench
go test -run '^$' -bench . -benchtime 3x -count 1 ./syncnode/httpapi ./syncnode/store/...
