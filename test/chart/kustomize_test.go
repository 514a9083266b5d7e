package chart_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kustomize builds config/default with `kubectl kustomize`, or skips the test when
// kubectl is not installed (kustomize itself is not needed by anything else).
func kustomize(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: config/default is not built; install kubectl to check the overlay against the chart")
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(repo, "config", "default")).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("kubectl kustomize config/default: %v\n%s", err, msg)
	}
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestKustomizeMatchesTheChart: config/default installs the objects of the chart's
// defaults (plus the Namespace), with the same specs, rules and bindings, and an
// operator started with the same settings; the API server accepts them all.
func TestKustomizeMatchesTheChart(t *testing.T) {
	kz := kustomize(t)
	chart := render(t, releaseName, releaseNamespace, defaults)
	var kzRefs []string
	for _, u := range kz {
		if u.GetKind() != "Namespace" {
			kzRefs = append(kzRefs, ref(u))
		}
	}
	if got, want := sortedSet(kzRefs), refs(chart); !slices.Equal(got, want) {
		t.Fatalf("objects:\n kustomize %v\n chart     %v", got, want)
	}
	find(t, kz, "Namespace", "", releaseNamespace)
	for _, c := range chart {
		k := find(t, kz, c.GetKind(), c.GetNamespace(), c.GetName())
		if c.GetKind() == "Deployment" {
			compareDeployments(t, k, c)
			continue
		}
		for _, field := range []string{"spec", "rules", "roleRef", "subjects"} {
			if !reflect.DeepEqual(k.Object[field], c.Object[field]) {
				t.Errorf("%s: %s differs:\n kustomize %v\n chart     %v", ref(c), field, k.Object[field], c.Object[field])
			}
		}
	}
	k8s := kube(t)
	ensureNamespaces(t, releaseNamespace)
	installCRDs(t, kz)
	for _, u := range kz {
		if u.GetKind() != "CustomResourceDefinition" {
			if err := apply(context.Background(), k8s, u, true); err != nil {
				t.Error(err)
			}
		}
	}
}

// compareDeployments compares the two operator Deployments: the same pod spec apart
// from how the settings are passed, and the same settings.
func compareDeployments(t *testing.T, kz, chart *unstructured.Unstructured) {
	t.Helper()
	for _, path := range [][]string{{"spec", "replicas"}, {"spec", "selector"}} {
		k, _, _ := unstructured.NestedFieldNoCopy(kz.Object, path...)
		c, _, _ := unstructured.NestedFieldNoCopy(chart.Object, path...)
		if !reflect.DeepEqual(k, c) {
			t.Errorf("Deployment %s differs: kustomize %v, chart %v", strings.Join(path, "."), k, c)
		}
	}
	kPod, kSettings := podAndSettings(t, kz)
	cPod, cSettings := podAndSettings(t, chart)
	if !reflect.DeepEqual(kPod, cPod) {
		t.Errorf("Deployment pod spec differs (beyond args and env):\n kustomize %v\n chart     %v", kPod, cPod)
	}
	if !reflect.DeepEqual(kSettings, cSettings) {
		t.Errorf("operator settings differ:\n kustomize %v\n chart     %v", kSettings, cSettings)
	}
}

// podAndSettings splits a Deployment's pod spec into the spec without the container's
// args and env, and the operator's settings those carry (flag or environment variable;
// the lease's namespace defaults to the operator's own).
func podAndSettings(t *testing.T, d *unstructured.Unstructured) (map[string]any, map[string]string) {
	t.Helper()
	pod, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	containers, _ := pod["containers"].([]any)
	if len(containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", ref(d), len(containers))
	}
	c := containers[0].(map[string]any)
	settings := map[string]string{"leader-election-namespace": d.GetNamespace()}
	env, _, _ := unstructured.NestedSlice(c, "env")
	for _, e := range env {
		m := e.(map[string]any)
		if m["name"] == "LATTICE_OPERATOR_DEFAULT_IMAGE" {
			settings["default-image"], _ = m["value"].(string)
		}
	}
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	for _, a := range args {
		if name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok {
			settings[name] = value
		} else {
			settings["command"] = a
		}
	}
	delete(c, "args")
	delete(c, "env")
	return pod, settings
}
