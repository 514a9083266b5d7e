#!/usr/bin/env bash
# Prints the benchmark figures that BENCHMARKS.md records (see there for each command).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
go test -run '^$' -bench . -benchmem -count 1 ./crdt/...
