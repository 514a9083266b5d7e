# syntax=docker/dockerfile:1
# The single `lattice` binary (dev, serve, token, operator, version) in a static,
# non-root image. Build with `make image` (hack/release.sh image), which passes the
# version, commit and date below; or by hand:
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/lattice-sync/lattice:v0.1.0 .
# Cross-platform: docker buildx build --platform linux/amd64,linux/arm64 … (the Go
# build runs on the build machine's platform and cross-compiles).

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux TARGETARCH=amd64
ARG VERSION=dev COMMIT=unknown DATE=unknown IMAGE=ghcr.io/lattice-sync/lattice
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -o /out/lattice \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE} -X main.defaultImage=${IMAGE}:${VERSION}" \
      ./cmd/lattice

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev COMMIT=unknown DATE=unknown
LABEL org.opencontainers.image.title="lattice" \
      org.opencontainers.image.description="Lattice: a sync server for local-first apps, and its Kubernetes operator" \
      org.opencontainers.image.source="https://github.com/lattice-sync/lattice" \
      org.opencontainers.image.url="https://github.com/lattice-sync/lattice" \
      org.opencontainers.image.documentation="https://github.com/lattice-sync/lattice#readme" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/lattice /usr/local/bin/lattice
USER 65532:65532
# 8080: the sync API (lattice serve) and the operator's metrics; 9090: a node's admin
# listener (/metrics, /healthz, /readyz) when admin.listen is set; the operator's
# probes are on 8081 (--health-addr).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/lattice"]
CMD ["serve"]
