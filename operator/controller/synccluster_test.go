package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/controller"
	"github.com/lattice-sync/lattice/operator/specs"
)

var namespaces atomic.Int64

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("t%d", namespaces.Add(1))
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// sampleCluster reads config/samples' small tenant into namespace ns.
func sampleCluster(t *testing.T, ns string) *v1alpha1.SyncCluster {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repo, "config", "samples", "sync_v1alpha1_synccluster_small.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c v1alpha1.SyncCluster
	if err := yaml.UnmarshalStrict(raw, &c); err != nil {
		t.Fatal(err)
	}
	c.Namespace = ns
	return &c
}

// createSecrets creates the small sample's Secrets with the given values.
func createSecrets(t *testing.T, ns, mongoURI, redisURL string) {
	t.Helper()
	for name, data := range map[string]map[string]string{
		"acme-mongodb": {"uri": mongoURI}, "acme-redis": {"url": redisURL},
		"acme-auth": {"secret": strings.Repeat("s", 40)},
	} {
		createSecret(t, ns, name, data)
	}
}

func createSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, ns, name string, obj client.Object) error {
	t.Helper()
	return k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
}

// condition returns c's condition of type ct as "Status/Reason: message".
func condition(c *v1alpha1.SyncCluster, ct string) string {
	cond := apimeta.FindStatusCondition(c.Status.Conditions, ct)
	if cond == nil {
		return "absent"
	}
	return fmt.Sprintf("%s/%s: %s", cond.Status, cond.Reason, cond.Message)
}

// markReady sets the Deployment's status as a Deployment controller would once
// every pod is ready (envtest runs no controllers).
func markReady(t *testing.T, ns, name string) {
	t.Helper()
	var d appsv1.Deployment
	if err := get(t, ns, name, &d); err != nil {
		t.Fatal(err)
	}
	n := ptr.Deref(d.Spec.Replicas, 1)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	if err := k8s.Status().Update(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
}

// updateCluster applies edit to the current SyncCluster, again when the operator
// wrote it meanwhile.
func updateCluster(t *testing.T, ns, name string, edit func(*v1alpha1.SyncCluster)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var c v1alpha1.SyncCluster
		if err := get(t, ns, name, &c); err != nil {
			return err
		}
		edit(&c)
		return k8s.Update(context.Background(), &c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClusterComesUpReady(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	c := sampleCluster(t, ns)
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	eventually(t, "the Deployment", func() (bool, string) { err := get(t, ns, "acme", &d); return err == nil, fmt.Sprint(err) })
	for _, obj := range []client.Object{&corev1.ConfigMap{}, &corev1.Service{}, &corev1.ServiceAccount{}, &policyv1.PodDisruptionBudget{}, &d} {
		if err := get(t, ns, "acme", obj); err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		if ref := metav1.GetControllerOf(obj); ref == nil || ref.Kind != "SyncCluster" || ref.Name != "acme" {
			t.Errorf("%T is not owned by the SyncCluster: %+v", obj, obj.GetOwnerReferences())
		}
	}
	if *d.Spec.Replicas != 2 || d.Spec.Template.Annotations[specs.AnnotationConfigHash] == "" || d.Spec.Template.Spec.Containers[0].Image != "lattice:test" {
		t.Errorf("deployment %+v", d.Spec)
	}
	var got v1alpha1.SyncCluster
	eventually(t, "Ready false before the nodes are", func() (bool, string) {
		_ = get(t, ns, "acme", &got)
		return strings.HasPrefix(condition(&got, v1alpha1.ConditionReady), "False"), condition(&got, v1alpha1.ConditionReady)
	})
	markReady(t, ns, "acme")
	eventually(t, "Ready", func() (bool, string) {
		_ = get(t, ns, "acme", &got)
		return strings.HasPrefix(condition(&got, v1alpha1.ConditionReady), "True") && got.Status.ReadyReplicas == 2,
			condition(&got, v1alpha1.ConditionReady)
	})
	if got.Status.Selector == "" || got.Status.Endpoint != "http://acme."+ns+".svc:8080" || got.Status.ObservedGeneration != got.Generation ||
		!strings.HasPrefix(condition(&got, v1alpha1.ConditionDegraded), "False") {
		t.Errorf("status %+v", got.Status)
	}
	if len(got.Finalizers) != 1 || got.Finalizers[0] != controller.Finalizer {
		t.Errorf("finalizers %v", got.Finalizers)
	}
}

func TestSpecChangeRollsThePods(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	c := sampleCluster(t, ns)
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	eventually(t, "the Deployment", func() (bool, string) { return get(t, ns, "acme", &d) == nil, "" })
	before := d.Spec.Template.Annotations[specs.AnnotationConfigHash]
	updateCluster(t, ns, "acme", func(c *v1alpha1.SyncCluster) {
		c.Spec.Collections["technicians"] = v1alpha1.CollectionSpec{Fields: map[string]v1alpha1.FieldType{"skills": "set"}}
	})
	eventually(t, "a new config hash", func() (bool, string) {
		_ = get(t, ns, "acme", &d)
		h := d.Spec.Template.Annotations[specs.AnnotationConfigHash]
		return h != before, h
	})
	var cm corev1.ConfigMap
	if err := get(t, ns, "acme", &cm); err != nil || !strings.Contains(cm.Data[specs.ConfigFile], "technicians") {
		t.Fatalf("config map: %v\n%s", err, cm.Data[specs.ConfigFile])
	}
}

func TestScaleSubresource(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	c := sampleCluster(t, ns)
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	scale := &autoscalingv1.Scale{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the operator writes the status meanwhile
		if err := k8s.SubResource("scale").Get(context.Background(), c, scale); err != nil {
			return err
		}
		scale.Spec.Replicas = 5
		return k8s.SubResource("scale").Update(context.Background(), c, client.WithSubResourceBody(scale))
	})
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	eventually(t, "the Deployment at 5", func() (bool, string) {
		err := get(t, ns, "acme", &d)
		return err == nil && ptr.Deref(d.Spec.Replicas, 0) == 5, fmt.Sprint(err, d.Spec.Replicas)
	})
	markReady(t, ns, "acme")
	eventually(t, "the scale's status", func() (bool, string) {
		_ = k8s.SubResource("scale").Get(context.Background(), c, scale)
		return scale.Status.Replicas == 5 && scale.Status.Selector != "", fmt.Sprintf("%+v", scale.Status)
	})
}

func TestMissingSecretDegradesUntilItAppears(t *testing.T) {
	ns := newNamespace(t)
	c := sampleCluster(t, ns)
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.SyncCluster
	eventually(t, "Degraded MissingSecret", func() (bool, string) {
		_ = get(t, ns, "acme", &got)
		d := condition(&got, v1alpha1.ConditionDegraded)
		return strings.Contains(d, controller.ReasonMissingSecret) && strings.Contains(d, "acme-mongodb"), d
	})
	if err := get(t, ns, "acme", &appsv1.Deployment{}); err == nil {
		t.Error("a Deployment was created though its pods could not start")
	}
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	eventually(t, "recovered", func() (bool, string) {
		_ = get(t, ns, "acme", &got)
		d := condition(&got, v1alpha1.ConditionDegraded)
		return strings.HasPrefix(d, "False") && get(t, ns, "acme", &appsv1.Deployment{}) == nil, d
	})
}

func TestInvalidCollectionIsReported(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	c := sampleCluster(t, ns)
	c.Spec.Collections["workorders"].Fields["hours.part"] = "counter" // a typed path under a typed path
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.SyncCluster
	eventually(t, "Degraded InvalidSpec", func() (bool, string) {
		_ = get(t, ns, "acme", &got)
		d := condition(&got, v1alpha1.ConditionDegraded)
		return strings.Contains(d, controller.ReasonInvalidSpec) && strings.Contains(d, "collections.workorders"), d
	})
}

// TestSamplesApply: every sample in config/samples is accepted by the API server
// (schema and CEL rules) and by the nodes' own validation.
func TestSamplesApply(t *testing.T) {
	ns := newNamespace(t)
	files, _ := filepath.Glob(filepath.Join(repo, "config", "samples", "*.yaml"))
	if len(files) < 2 {
		t.Fatalf("samples: %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c v1alpha1.SyncCluster
		if err := yaml.UnmarshalStrict(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.Namespace = ns
		if err := k8s.Create(context.Background(), &c, client.DryRunAll); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if err := specs.ValidateNodeConfig(&c); err != nil {
			t.Errorf("%s: the nodes would refuse it: %v", filepath.Base(f), err)
		}
	}
}
