package chart_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restrictedNamespace enforces the "restricted" Pod Security Standard.
const restrictedNamespace = "pss-restricted"

// TestOperatorPodIsRestricted: the operator's pod, as the chart renders it, is admitted
// to a namespace that enforces the "restricted" Pod Security Standard (non-root, no
// privilege escalation, no capabilities, a seccomp profile); loosening the security
// context gets it refused.
func TestOperatorPodIsRestricted(t *testing.T) {
	k8s := kube(t)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": restrictedNamespace,
			"labels": map[string]any{"pod-security.kubernetes.io/enforce": "restricted"}}}}
	if err := apply(context.Background(), k8s, ns, false); err != nil {
		t.Fatal(err)
	}
	if err := createPod(t, defaults); err != nil {
		t.Errorf("the operator's pod in a restricted namespace: %v", err)
	}
	loose := map[string]any{"securityContext": map[string]any{"allowPrivilegeEscalation": true}}
	if err := createPod(t, loose); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("a pod allowing privilege escalation: %v, want a PodSecurity violation", err)
	}
}

// createPod dry-runs the creation of the rendered Deployment's pod, with its
// ServiceAccount (created for real), in the restricted namespace.
func createPod(t *testing.T, values map[string]any) error {
	t.Helper()
	objs := render(t, releaseName, restrictedNamespace, values)
	sa := find(t, objs, "ServiceAccount", restrictedNamespace, "lattice-operator")
	if err := apply(context.Background(), kube(t), sa, false); err != nil {
		t.Fatal(err)
	}
	d := find(t, objs, "Deployment", restrictedNamespace, "lattice-operator")
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "lattice-operator", "namespace": restrictedNamespace}, "spec": spec}}
	return kube(t).Create(context.Background(), pod, client.DryRunAll)
}
