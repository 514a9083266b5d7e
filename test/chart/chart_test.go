package chart_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// defaults are the chart's own values.
var defaults = map[string]any{}

// allFeatures turns on every optional part of the chart and sets every value that
// changes what is rendered.
var allFeatures = map[string]any{
	"replicaCount":     2,
	"watchNamespaces":  []any{"acme", "globex"},
	"defaultImage":     "registry.example/lattice:v0.1.0",
	"image":            map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32), "pullPolicy": "Always"},
	"imagePullSecrets": []any{map[string]any{"name": "regcred"}},
	"serviceAccount":   map[string]any{"annotations": map[string]any{"iam.example/role": "lattice-operator"}},
	"otel": map[string]any{"endpoint": "http://otel-collector.observability:4318", "sampler": "traceidratio",
		"samplerArg": "0.25", "headersSecret": map[string]any{"name": "otlp", "key": "headers"}},
	"serviceMonitor":      map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
	"podDisruptionBudget": map[string]any{"enabled": true},
	"networkPolicy": map[string]any{"enabled": true, "metricsFrom": []any{map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}}}},
	"nodeSelector": map[string]any{"kubernetes.io/os": "linux"},
	"tolerations": []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "operators",
		"effect": "NoSchedule"}},
	"affinity": map[string]any{"podAntiAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
		map[string]any{"weight": 100, "podAffinityTerm": map[string]any{"topologyKey": "kubernetes.io/hostname",
			"labelSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "operator"}}}}}}},
	"topologySpreadConstraints": []any{map[string]any{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
		"whenUnsatisfiable": "ScheduleAnyway",
		"labelSelector":     map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "operator"}}}},
	"priorityClassName": "lattice-critical",
	"podAnnotations":    map[string]any{"example.com/team": "platform"},
	"podLabels":         map[string]any{"team": "platform"},
	"extraEnv":          []any{map[string]any{"name": "GOMEMLIMIT", "value": "200MiB"}},
}

// minimal turns off everything that can be turned off: only the Deployment is left.
var minimal = map[string]any{
	"crds":           map[string]any{"install": false},
	"rbac":           map[string]any{"create": false},
	"serviceAccount": map[string]any{"create": false, "name": "platform-operator"},
	"metrics":        map[string]any{"enabled": false},
	"leaderElection": map[string]any{"enabled": false},
}

// variants are the value sets every test renders.
var variants = []struct {
	name   string
	values map[string]any
}{{"defaults", defaults}, {"all-features", allFeatures}, {"minimal", minimal}}

func TestHelmLint(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if out, err := helm(t, "lint", "--strict", chartDir, "-f", valuesFile(t, v.values)); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestTemplateDefaults(t *testing.T) {
	objs := render(t, releaseName, releaseNamespace, defaults)
	want := []string{
		"ClusterRole//lattice-operator",
		"ClusterRoleBinding//lattice-operator",
		"CustomResourceDefinition//syncclusters.sync.lattice.dev",
		"CustomResourceDefinition//synccompactions.sync.lattice.dev",
		"Deployment/lattice-system/lattice-operator",
		"Role/lattice-system/lattice-operator-leader-election",
		"RoleBinding/lattice-system/lattice-operator-leader-election",
		"Service/lattice-system/lattice-operator-metrics",
		"ServiceAccount/lattice-system/lattice-operator",
	}
	if got := refs(objs); !slices.Equal(got, want) {
		t.Errorf("objects:\n got %v\nwant %v", got, want)
	}
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" && u.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("%s: no helm.sh/resource-policy: keep (crds.keep defaults to true)", ref(u))
		}
	}
	c := operatorContainer(t, objs)
	wantArgs := []string{"operator", "--default-image=ghcr.io/lattice-sync/lattice:v0.1.0", "--leader-elect=true",
		"--leader-election-namespace=lattice-system", "--metrics-addr=:8080", "--health-addr=:8081"}
	if got := stringsAt(c, "args"); !slices.Equal(got, wantArgs) {
		t.Errorf("args:\n got %v\nwant %v", got, wantArgs)
	}
	for path, want := range map[string]any{
		"image":                                    "ghcr.io/lattice-sync/lattice:v0.1.0",
		"livenessProbe.httpGet.path":               "/healthz",
		"readinessProbe.httpGet.path":              "/readyz",
		"livenessProbe.httpGet.port":               "health",
		"securityContext.readOnlyRootFilesystem":   true,
		"securityContext.allowPrivilegeEscalation": false,
	} {
		if got, _, _ := unstructured.NestedFieldNoCopy(c, strings.Split(path, ".")...); got != want {
			t.Errorf("container %s = %v, want %v", path, got, want)
		}
	}
	pod := find(t, objs, "Deployment", releaseNamespace, "lattice-operator").Object
	if got, _, _ := unstructured.NestedFieldNoCopy(pod, "spec", "template", "spec", "securityContext", "runAsUser"); got != int64(65532) && got != float64(65532) {
		t.Errorf("pod runAsUser = %v (%T), want 65532", got, got)
	}
}

func TestTemplateAllFeatures(t *testing.T) {
	objs := render(t, releaseName, releaseNamespace, allFeatures)
	want := []string{
		"CustomResourceDefinition//syncclusters.sync.lattice.dev",
		"CustomResourceDefinition//synccompactions.sync.lattice.dev",
		"Deployment/lattice-system/lattice-operator",
		"NetworkPolicy/lattice-system/lattice-operator",
		"PodDisruptionBudget/lattice-system/lattice-operator",
		"Role/acme/lattice-operator",
		"Role/globex/lattice-operator",
		"Role/lattice-system/lattice-operator-leader-election",
		"RoleBinding/acme/lattice-operator",
		"RoleBinding/globex/lattice-operator",
		"RoleBinding/lattice-system/lattice-operator-leader-election",
		"Service/lattice-system/lattice-operator-metrics",
		"ServiceAccount/lattice-system/lattice-operator",
		"ServiceMonitor/lattice-system/lattice-operator",
	}
	if got := refs(objs); !slices.Equal(got, want) {
		t.Errorf("objects (no ClusterRole with watchNamespaces):\n got %v\nwant %v", got, want)
	}
	c := operatorContainer(t, objs)
	args := stringsAt(c, "args")
	for _, a := range []string{"--watch-namespaces=acme,globex", "--default-image=registry.example/lattice:v0.1.0"} {
		if !slices.Contains(args, a) {
			t.Errorf("args %v lack %s", args, a)
		}
	}
	if img, _, _ := unstructured.NestedString(c, "image"); img != "ghcr.io/lattice-sync/lattice@sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("image = %s, want the digest", img)
	}
	env := envNames(c)
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_EXPORTER_OTLP_HEADERS", "GOMEMLIMIT"} {
		if !slices.Contains(env, name) {
			t.Errorf("env %v lacks %s", env, name)
		}
	}
}

func TestTemplateMinimal(t *testing.T) {
	objs := render(t, releaseName, releaseNamespace, minimal)
	if got, want := refs(objs), []string{"Deployment/lattice-system/lattice-operator"}; !slices.Equal(got, want) {
		t.Errorf("objects:\n got %v\nwant %v", got, want)
	}
	args := stringsAt(operatorContainer(t, objs), "args")
	for _, a := range []string{"--metrics-addr=0", "--leader-elect=false"} {
		if !slices.Contains(args, a) {
			t.Errorf("args %v lack %s", args, a)
		}
	}
	sa, _, _ := unstructured.NestedString(find(t, objs, "Deployment", releaseNamespace, "lattice-operator").Object,
		"spec", "template", "spec", "serviceAccountName")
	if sa != "platform-operator" {
		t.Errorf("serviceAccountName = %q, want platform-operator", sa)
	}
}

func TestCRDsKeepAndInstallFlags(t *testing.T) {
	for _, u := range render(t, releaseName, releaseNamespace, map[string]any{"crds": map[string]any{"keep": false}}) {
		if _, ok := u.GetAnnotations()["helm.sh/resource-policy"]; ok {
			t.Errorf("%s: resource-policy annotation with crds.keep=false", ref(u))
		}
	}
	for _, u := range render(t, releaseName, releaseNamespace, map[string]any{"crds": map[string]any{"install": false}}) {
		if u.GetKind() == "CustomResourceDefinition" {
			t.Errorf("%s rendered with crds.install=false", ref(u))
		}
	}
}

// TestNotes: helm install prints NOTES.txt, naming the operator's Deployment and, with
// watchNamespaces, a watched namespace for the first tenant.
func TestNotes(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			out, err := helm(t, "install", releaseName, chartDir, "--namespace", releaseNamespace, "--dry-run=client",
				"-f", valuesFile(t, v.values))
			if err != nil {
				t.Fatal(err)
			}
			_, notes, ok := strings.Cut(out, "NOTES:")
			if !ok {
				t.Fatalf("no NOTES in:\n%s", out)
			}
			want := []string{"rollout status deployment/lattice-operator"}
			if v.name == "all-features" {
				want = append(want, "kubectl -n acme apply -f config/samples/")
			}
			for _, w := range want {
				if !strings.Contains(notes, w) {
					t.Errorf("NOTES lack %q:\n%s", w, notes)
				}
			}
		})
	}
}

// TestSchemaRefusesBadValues: values.schema.json, and the template checks the schema
// cannot express, refuse each bad value with a message naming it.
func TestSchemaRefusesBadValues(t *testing.T) {
	cases := []struct {
		name, set, want string
	}{
		{"unknown pull policy", "image.pullPolicy=Sometimes",
			"at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'"},
		{"namespace not a DNS label", "watchNamespaces[0]=Acme_Prod",
			"at '/watchNamespaces/0': 'Acme_Prod' does not match pattern"},
		{"misspelt key", "crds.instal=true", "at '/crds': additional properties 'instal' not allowed"},
		{"replicas not a number", "replicaCount=two", "at '/replicaCount': got string, want integer"},
		{"no replica", "replicaCount=0", "at '/replicaCount': minimum: got 0, want 1"},
		{"port out of range", "metrics.port=70000", "at '/metrics/port': maximum"},
		{"budget neither count nor percentage", "podDisruptionBudget.maxUnavailable=half",
			"'half' does not match pattern '^[0-9]+%$'"},
		{"unknown sampler", "otel.sampler=sometimes", "at '/otel/sampler': value must be one of"},
		{"endpoint without scheme", "otel.endpoint=otel:4318", "at '/otel/endpoint': 'otel:4318' does not match pattern"},
		{"leader election not a bool", "leaderElection.enabled=yes", "at '/leaderElection/enabled': got string, want boolean"},
		{"ServiceMonitor without metrics", "serviceMonitor.enabled=true,metrics.enabled=false",
			"serviceMonitor.enabled needs metrics.enabled"},
		{"metrics and health on one port", "metrics.port=8081",
			"metrics.port and health.port are both 8081: the operator cannot serve /metrics and /healthz on one port"},
		{"no ServiceAccount to run as", "serviceAccount.create=false",
			"serviceAccount.name is required when serviceAccount.create is false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := helm(t, "template", releaseName, chartDir, "--namespace", releaseNamespace, "--set", c.set)
			if err == nil {
				t.Fatalf("--set %s was accepted", c.set)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("--set %s: the error does not say %q:\n%v", c.set, c.want, err)
			}
		})
	}
}

// operatorContainer is the operator's container in the rendered Deployment.
func operatorContainer(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := find(t, objs, "Deployment", releaseNamespace, "lattice-operator")
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0].(map[string]any)
}

// stringsAt is the string list at field of obj.
func stringsAt(obj map[string]any, field string) []string {
	l, _, _ := unstructured.NestedStringSlice(obj, field)
	return l
}

// envNames are the names of a container's environment variables.
func envNames(c map[string]any) []string {
	env, _, _ := unstructured.NestedSlice(c, "env")
	var names []string
	for _, e := range env {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	return names
}

// sortedSet is l sorted without duplicates.
func sortedSet(l []string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	return slices.Compact(out)
}
