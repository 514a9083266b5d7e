package chart_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// markerRules are the rules of config/rbac/role.yaml, which controller-gen generates
// from the reconcilers' kubebuilder markers.
func markerRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	return role.Rules
}

// permissions expands rules into one "group resource verb [name]" line per permission
// (see permission),
// so that two rule lists compare as sets whatever their grouping and order.
func permissions(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						out = append(out, permission(g, res, v, n))
					}
				}
			}
		}
		for _, u := range r.NonResourceURLs {
			for _, v := range r.Verbs {
				out = append(out, "url "+u+" "+v)
			}
		}
	}
	return sortedSet(out)
}

// permission is one permission as a line: the core group is "core", a name only
// when the rule names its objects.
func permission(group, resource, verb, name string) string {
	if group == "" {
		group = "core"
	}
	return strings.TrimSpace(strings.Join([]string{group, resource, verb, name}, " "))
}

// rulesOf decodes the rules of a rendered Role or ClusterRole.
func rulesOf(t *testing.T, u *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &role); err != nil {
		t.Fatalf("%s: %v", ref(u), err)
	}
	return role.Rules
}

// leaderElectionPermissions are all the chart grants for leader election, in the
// release namespace only.
var leaderElectionPermissions = []string{
	"core events create",
	"core events patch",
	"coordination.k8s.io leases create",
	"coordination.k8s.io leases get lattice-operator.sync.lattice.dev",
	"coordination.k8s.io leases update lattice-operator.sync.lattice.dev",
}

// TestRBACIsTheMarkers: the operator's rules in the chart are exactly those of the
// kubebuilder markers (config/rbac/role.yaml), cluster-wide or in each watched
// namespace; leader election adds only its Lease and Events in the release namespace;
// nothing else grants anything.
func TestRBACIsTheMarkers(t *testing.T) {
	want := permissions(markerRules(t))
	if len(want) == 0 {
		t.Fatal("config/rbac/role.yaml has no rules")
	}
	cases := []struct {
		name   string
		values map[string]any
		roles  []string // the roles holding the operator's rules
	}{
		{"cluster-wide", defaults, []string{"ClusterRole//lattice-operator"}},
		{"watchNamespaces", allFeatures, []string{"Role/acme/lattice-operator", "Role/globex/lattice-operator"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var roles []string
			for _, u := range render(t, releaseName, releaseNamespace, c.values) {
				switch {
				case u.GetKind() != "Role" && u.GetKind() != "ClusterRole":
					continue
				case u.GetName() == "lattice-operator-leader-election":
					checkPermissions(t, u, sortedSet(leaderElectionPermissions))
					if u.GetKind() != "Role" || u.GetNamespace() != releaseNamespace {
						t.Errorf("leader election granted by %s, want a Role in %s", ref(u), releaseNamespace)
					}
				default:
					roles = append(roles, ref(u))
					checkPermissions(t, u, want)
				}
			}
			if !slices.Equal(sortedSet(roles), c.roles) {
				t.Errorf("roles with the operator's rules: %v, want %v", roles, c.roles)
			}
		})
	}
}

// checkPermissions fails unless the role u grants exactly want.
func checkPermissions(t *testing.T, u *unstructured.Unstructured, want []string) {
	t.Helper()
	got := permissions(rulesOf(t, u))
	for _, p := range got {
		if !slices.Contains(want, p) {
			t.Errorf("%s grants %q, which is not wanted", ref(u), p)
		}
	}
	for _, p := range want {
		if !slices.Contains(got, p) {
			t.Errorf("%s lacks %q", ref(u), p)
		}
	}
}
