# Lattice — the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: run build test lint bench fuzz cluster generate chart image release tools clean

run: ## run a single-node Lattice (embedded store in ./data, no external services)
	$(GO) run ./cmd/lattice dev

build: ## build bin/lattice
	$(GO) build -o bin/lattice ./cmd/lattice

test: ## run every test (installs what the tests need under .cache/)
	bash hack/test.sh

lint: ## gofmt, go vet, staticcheck
	bash hack/lint.sh

bench: ## print the benchmark figures recorded in BENCHMARKS.md
	bash hack/bench.sh

fuzz: ## run each fuzz target for a short while (FUZZTIME=30s)
	bash hack/fuzz.sh

generate: ## regenerate deep copies, CRDs and RBAC from the kubebuilder markers (controller-gen), and their copies in the chart
	bash hack/generate.sh
	bash hack/chart-sync.sh

chart: ## copy the CRDs and RBAC rules into charts/lattice and config/default; regenerate the chart's values table
	bash hack/chart-sync.sh
	bash hack/chart-readme.sh

image: ## build the container image with docker or podman (IMAGE, VERSION); skipped with a message without an engine
	bash hack/release.sh image

release: ## build lattice for linux/amd64 and linux/arm64 into dist/, with version, commit and date
	bash hack/release.sh binaries

cluster: ## start a local cluster: Redis, FerretDB and 3 lattice serve replicas (hack/cluster.sh)
	bash hack/cluster.sh up

clean:
	rm -rf bin dist .cache/tmp
