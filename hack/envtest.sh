#!/usr/bin/env bash
# Builds the Kubernetes tooling of the operator's tests from the Go module proxy, with
# the versions pinned in hack/tools/go.mod, once (a binary is rebuilt only when it is
# missing or its --version no longer matches go.mod):
#
#   bash hack/envtest.sh                 kube-apiserver and etcd into .cache/envtest/bin, plus
#                                        controller-gen; prints that folder (for KUBEBUILDER_ASSETS)
#   bash hack/envtest.sh controller-gen  only controller-gen, into .cache/bin; prints its path
#
# Only the path goes to stdout (last line), progress to stderr, so callers can write
#   export KUBEBUILDER_ASSETS="$(bash hack/envtest.sh)"
# Cold (empty Go caches) this takes about 7 minutes and 2.3 GB of memory; warm, seconds.
source "$(dirname "$0")/lib.sh"

TOOLS="$ROOT/hack/tools"
ASSETS="$CACHE/envtest/bin"
mkdir -p "$ASSETS"

# ver MODULE: the version hack/tools/go.mod requires (replace lines have "=>" as $2).
ver() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$TOOLS/go.mod"; }
K8S="$(ver k8s.io/kubernetes)"           # e.g. v1.37.1
ETCD="$(ver go.etcd.io/etcd/server/v3)"  # e.g. v3.7.0
CTRL="$(ver sigs.k8s.io/controller-tools)"
[[ -n $K8S && -n $ETCD && -n $CTRL ]] || { echo "envtest.sh: versions missing in $TOOLS/go.mod" >&2; exit 1; }

# Version ldflags: without them kube-apiserver reports v0.0.0 and controller-gen "(devel)"
# (its main module is hack/tools). -X on a package a binary does not link is ignored, so
# one set of flags serves all three builds.
major="${K8S#v}"; major="${major%%.*}"
minor="${K8S#v*.}"; minor="${minor%%.*}"
LDFLAGS="-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=$CTRL"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $p.gitVersion=$K8S -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

# ensure PATH PKG WANT: builds PKG into PATH unless "PATH --version" already starts with WANT.
ensure() {
  local out=$1 pkg=$2 want=$3
  if [[ -x $out && "$("$out" --version 2>/dev/null | head -n1)" == "$want" ]]; then
    return 0
  fi
  log "building $(basename "$out") ($pkg, $want)"
  # Build next to the target and rename, so an interrupted build leaves no broken binary.
  (cd "$TOOLS" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$out.tmp" "$pkg")
  mv -f "$out.tmp" "$out"
  [[ "$("$out" --version 2>/dev/null | head -n1)" == "$want" ]] || {
    echo "envtest.sh: $out does not report $want" >&2; exit 1; }
}

# One build at a time, should several test runs call this together.
exec 9>"$CACHE/envtest/.lock"
flock 9

ensure "$BIN/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen "Version: $CTRL"
case ${1:-assets} in
  controller-gen) echo "$BIN/controller-gen" ;;
  assets)
    ensure "$ASSETS/etcd" go.etcd.io/etcd/server/v3 "etcd Version: ${ETCD#v}"
    ensure "$ASSETS/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "Kubernetes $K8S"
    echo "$ASSETS"
    ;;
  *) echo "usage: bash hack/envtest.sh [assets | controller-gen]" >&2; exit 2 ;;
esac
