#!/usr/bin/env bash
# Builds Helm from the Go module proxy (module hack/tools/helm, version pinned in its
# go.mod) into .cache/bin/helm, once: it is rebuilt only when missing or when
# "helm version --short" no longer matches go.mod.
#
#   bash hack/helm.sh       build if needed; print the binary's path (last stdout line)
#   bash hack/helm.sh env   build if needed; print export lines for eval (below)
#
# Helm writes its config, repository cache and plugins under $HOME unless told
# otherwise. Callers keep it inside the cache with:
#   eval "$(bash hack/helm.sh env)"
# which sets HELM_CONFIG_HOME, HELM_CACHE_HOME and HELM_DATA_HOME to .cache/helm/{config,cache,data}
# and puts the binary's folder first on PATH. (Or set those three variables by hand.)
source "$(dirname "$0")/lib.sh"

MOD="$ROOT/hack/tools/helm"
VERSION="$(awk '$1 == "helm.sh/helm/v4" && $2 ~ /^v/ { print $2; exit }' "$MOD/go.mod")"
[[ -n $VERSION ]] || { echo "helm.sh: no helm.sh/helm/v4 version in $MOD/go.mod" >&2; exit 1; }
HELM="$BIN/helm"
HOMES="$CACHE/helm"
export HELM_CONFIG_HOME="$HOMES/config" HELM_CACHE_HOME="$HOMES/cache" HELM_DATA_HOME="$HOMES/data"
mkdir -p "$HELM_CONFIG_HOME" "$HELM_CACHE_HOME" "$HELM_DATA_HOME"

current() { "$HELM" version --short 2>/dev/null; }

exec 9>"$HOMES/.lock"  # one build at a time
flock 9
if [[ ! -x $HELM || "$(current)" != "$VERSION" ]]; then
  log "building helm $VERSION (helm.sh/helm/v4/cmd/helm)"
  # Without the -X flag helm reports only "v4.3"; CGO_ENABLED=0 shares the build cache
  # with hack/envtest.sh's builds.
  (cd "$MOD" && GOWORK=off CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    -o "$HELM.tmp" helm.sh/helm/v4/cmd/helm)
  mv -f "$HELM.tmp" "$HELM"
  [[ "$(current)" == "$VERSION" ]] || { echo "helm.sh: $HELM does not report $VERSION" >&2; exit 1; }
fi

case ${1:-} in
  "") echo "$HELM" ;;
  env)
    printf 'export %s=%q\n' HELM_CONFIG_HOME "$HELM_CONFIG_HOME" HELM_CACHE_HOME "$HELM_CACHE_HOME" \
      HELM_DATA_HOME "$HELM_DATA_HOME"
    printf 'export PATH=%q:"$PATH"\n' "$BIN"
    ;;
  *) echo "usage: bash hack/helm.sh [env]" >&2; exit 2 ;;
esac
