#!/usr/bin/env bash
# Runs every test. What the tests need is installed idempotently and cached under .cache/.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash "$ROOT/hack/redis.sh"
bash "$ROOT/hack/generate.sh" --check
# kube-apiserver and etcd for the operator's envtest suites (built once, cached)
KUBEBUILDER_ASSETS="$(bash "$ROOT/hack/envtest.sh" | tail -n1)"
export KUBEBUILDER_ASSETS
go vet ./...
go test -count=1 ./...
