#!/usr/bin/env bash
# Release builds of the single `lattice` binary, with its version, commit and build
# date set through -ldflags (`lattice version` prints them) and the image tag that the
# operator gives SyncClusters naming none.
#
#   bash hack/release.sh binaries  dist/lattice-<version>-linux-{amd64,arm64} and
#                                  dist/SHA256SUMS (make release)
#   bash hack/release.sh image     build the image from the Dockerfile with docker or
#                                  podman (make image); without an engine that answers,
#                                  say so and exit 0
#   bash hack/release.sh ldflags   print the -ldflags value
#
# VERSION (default: git describe --tags --always --dirty, else "dev"), COMMIT (default:
# git rev-parse HEAD), DATE (default: now, or SOURCE_DATE_EPOCH, UTC RFC 3339) and IMAGE
# (default ghcr.io/lattice-sync/lattice) may be set in the environment;
# PLATFORMS (default "linux/amd64 linux/arm64") lists the binaries' targets.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

git_or() { git -C "$ROOT" "$@" 2>/dev/null; }
VERSION="${VERSION:-$(git_or describe --tags --always --dirty || true)}"
VERSION="${VERSION:-dev}"
COMMIT="${COMMIT:-$(git_or rev-parse HEAD || echo unknown)}"
if [[ -z ${DATE:-} ]]; then
  if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
    DATE="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
  else
    DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  fi
fi
IMAGE="${IMAGE:-ghcr.io/lattice-sync/lattice}"
PLATFORMS="${PLATFORMS:-linux/amd64 linux/arm64}"

ldflags() {
  printf '%s' "-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE -X main.defaultImage=$IMAGE:$VERSION"
}

binaries() {
  local p os arch out
  mkdir -p dist
  for p in $PLATFORMS; do
    os="${p%/*}" arch="${p#*/}"
    out="dist/lattice-$VERSION-$os-$arch"
    log "building $out"
    CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags "$(ldflags)" -o "$out" ./cmd/lattice
  done
  (cd dist && sha256sum lattice-"$VERSION"-* >SHA256SUMS)
  log "dist/: $(cd dist && ls lattice-"$VERSION"-* | tr '\n' ' ')and SHA256SUMS"
}

# engine: the first of docker and podman that is installed and answers.
engine() {
  local e
  for e in docker podman; do
    if command -v "$e" >/dev/null && "$e" info >/dev/null 2>&1; then echo "$e"; return 0; fi
  done
  return 1
}

image() {
  local e
  if ! e="$(engine)"; then
    log "no container engine answers (docker or podman): skipping the image build of $IMAGE:$VERSION"
    return 0
  fi
  log "building $IMAGE:$VERSION with $e"
  "$e" build --build-arg VERSION="$VERSION" --build-arg COMMIT="$COMMIT" --build-arg DATE="$DATE" \
    --build-arg IMAGE="$IMAGE" -t "$IMAGE:$VERSION" "$ROOT"
}

case ${1:-} in
  ldflags) ldflags; echo ;;
  binaries) binaries ;;
  image) image ;;
  *) echo "usage: bash hack/release.sh binaries | image | ldflags" >&2; exit 2 ;;
esac
