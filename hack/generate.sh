#!/usr/bin/env bash
# Regenerates what controller-gen derives from the kubebuilder markers: the deep
# copies in api/v1alpha1, the CRDs in config/crd/bases and the operator's RBAC in
# config/rbac. With --check it regenerates into a scratch copy and fails when the
# checked-in files differ (make test runs that).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
CONTROLLER_GEN="$(bash "$ROOT/hack/envtest.sh" controller-gen | tail -n1)"

generate() { # generate DIR: writes the generated files under DIR (a copy of the tree or the tree)
  local dir=$1
  (cd "$dir" && "$CONTROLLER_GEN" object paths=./api/... &&
    "$CONTROLLER_GEN" crd:maxDescLen=400 rbac:roleName=lattice-operator paths=./api/... paths=./operator/... \
      output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac)
}

if [[ ${1:-} != --check ]]; then
  generate "$ROOT"
  log "generated: api/v1alpha1/zz_generated.deepcopy.go, config/crd/bases, config/rbac"
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch" 2>/dev/null || true
generate "$scratch"
stale=0
for f in api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac; do
  if ! diff -r "$ROOT/$f" "$scratch/$f" >/dev/null 2>&1; then
    echo "out of date: $f (run make generate)" >&2; stale=1
  fi
done
[[ $stale == 0 ]] && log "generated files are up to date"
exit $stale
