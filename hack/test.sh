#!/usr/bin/env bash
# Runs every test. What the tests need is installed idempotently and cached under .cache/.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash "$ROOT/hack/redis.sh"
go vet ./...
go test -count=1 ./...
