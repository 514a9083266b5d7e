package chart_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lattice-sync/lattice/internal/testenv"
)

// The API server: envtest's kube-apiserver and etcd, started by the first test that
// needs them and stopped by TestMain. No CRDs are installed up front: the tests apply
// the chart's own.
var apiServer struct {
	sync.Once
	env *envtest.Environment
	cfg *rest.Config
	k8s client.Client
	err error
}

// fieldOwner is the field manager of the tests' server-side applies.
const fieldOwner = "lattice-chart-test"

// kube starts the API server once and returns an admin client for it.
func kube(t *testing.T) client.Client {
	t.Helper()
	apiServer.Do(func() {
		var assets string
		if assets, apiServer.err = testenv.EnvtestAssets(repo); apiServer.err != nil {
			return
		}
		apiServer.env = &envtest.Environment{BinaryAssetsDirectory: assets}
		if apiServer.cfg, apiServer.err = apiServer.env.Start(); apiServer.err != nil {
			apiServer.err = fmt.Errorf("envtest: start: %w", apiServer.err)
			return
		}
		apiServer.k8s, apiServer.err = client.New(apiServer.cfg, client.Options{})
	})
	if apiServer.err != nil {
		t.Fatal(apiServer.err)
	}
	return apiServer.k8s
}

// stopAPIServer stops the API server if a test started it.
func stopAPIServer() {
	if apiServer.env != nil && apiServer.cfg != nil {
		_ = apiServer.env.Stop()
	}
}

// apply applies u server-side; dryRun asks the server to check it without storing it.
func apply(ctx context.Context, k8s client.Client, u *unstructured.Unstructured, dryRun bool) error {
	opts := []client.ApplyOption{client.FieldOwner(fieldOwner), client.ForceOwnership}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), opts...); err != nil {
		return fmt.Errorf("apply %s: %w", ref(u), err)
	}
	return nil
}

// ensureNamespaces creates the namespaces that do not exist yet.
func ensureNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": name}}}
		if err := apply(context.Background(), kube(t), ns, false); err != nil {
			t.Fatal(err)
		}
	}
}

// installCRDs applies the CRDs among objs for real and waits until they serve.
func installCRDs(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	k8s := kube(t)
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		if err := apply(context.Background(), k8s, u, false); err != nil {
			t.Fatal(err)
		}
		waitEstablished(t, k8s, u.GetName())
	}
}

// waitEstablished waits until the CRD's Established condition is True.
func waitEstablished(t *testing.T, k8s client.Client, name string) {
	t.Helper()
	eventually(t, "CRD "+name+" established", func() (bool, string) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, crd); err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			m := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, fmt.Sprint(conds)
	})
}

// serviceMonitorCRD is a minimal stand-in for the Prometheus Operator's CRD, so
// that the API server knows the kind; it accepts any spec.
var serviceMonitorCRD = &unstructured.Unstructured{Object: map[string]any{
	"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
	"metadata": map[string]any{"name": "servicemonitors.monitoring.coreos.com"},
	"spec": map[string]any{
		"group": "monitoring.coreos.com", "scope": "Namespaced",
		"names": map[string]any{"kind": "ServiceMonitor", "listKind": "ServiceMonitorList",
			"plural": "servicemonitors", "singular": "servicemonitor"},
		"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object",
				"x-kubernetes-preserve-unknown-fields": true}}}},
	},
}}

// TestAPIServerAcceptsTheChart: a real kube-apiserver takes every object the chart
// renders, with its defaults, every feature on, and everything off. The CRDs are
// applied for real (the rest needs them, and a SyncCluster is checked against them
// below); everything else is a server-side dry-run apply, which runs the full
// validation and admission without storing.
func TestAPIServerAcceptsTheChart(t *testing.T) {
	k8s := kube(t)
	installCRDs(t, []*unstructured.Unstructured{serviceMonitorCRD})
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, releaseName, releaseNamespace, v.values)
			ensureNamespaces(t, namespacesOf(objs, releaseNamespace)...)
			installCRDs(t, objs)
			for _, u := range objs {
				if u.GetKind() == "CustomResourceDefinition" {
					continue
				}
				if err := apply(context.Background(), k8s, u, true); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestChartREADMEExampleIsAccepted: the SyncCluster of the chart's README passes the
// CRD's schema and CEL rules.
func TestChartREADMEExampleIsAccepted(t *testing.T) {
	installCRDs(t, render(t, releaseName, releaseNamespace, defaults))
	readme, err := os.ReadFile(chartDir + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	found := 0
	for _, b := range blocks {
		objs, err := decodeAll(b[1])
		if err != nil {
			t.Fatalf("a YAML block of the README: %v", err)
		}
		for _, u := range objs {
			if u.GetKind() != "SyncCluster" {
				continue
			}
			found++
			ensureNamespaces(t, "acme")
			u.SetNamespace("acme")
			if err := apply(context.Background(), kube(t), u, true); err != nil {
				t.Errorf("the README's example: %v", err)
			}
		}
	}
	if found == 0 {
		t.Error("the chart's README has no SyncCluster example in a yaml block")
	}
}

// namespacesOf lists the namespaces objs live in, and more (empty names left out).
func namespacesOf(objs []*unstructured.Unstructured, more ...string) []string {
	names := slices.Clone(more)
	for _, u := range objs {
		names = append(names, u.GetNamespace())
	}
	return slices.DeleteFunc(sortedSet(names), func(ns string) bool { return ns == "" })
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, cond)
}

// TestAPIServerRefusesABrokenRender keeps the dry-run honest: a value the schema lets
// through but Kubernetes does not (a label key with spaces) is refused.
func TestAPIServerRefusesABrokenRender(t *testing.T) {
	k8s := kube(t)
	ensureNamespaces(t, releaseNamespace)
	objs := render(t, releaseName, releaseNamespace, map[string]any{"podLabels": map[string]any{"not a label": "x"}})
	err := apply(context.Background(), k8s, find(t, objs, "Deployment", releaseNamespace, "lattice-operator"), true)
	if err == nil || !regexp.MustCompile(`(?i)invalid`).MatchString(err.Error()) {
		t.Errorf("a pod label key with spaces: %v, want Invalid", err)
	}
}
