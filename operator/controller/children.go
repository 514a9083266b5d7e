package controller

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/specs"
)

// applyChildren applies every object c needs and deletes the optional ones c no
// longer wants.
func (r *SyncClusterReconciler) applyChildren(ctx context.Context, c *v1alpha1.SyncCluster) error {
	text, hash, err := specs.RenderNodeConfig(c)
	if err != nil {
		return err
	}
	always := []client.Object{specs.ConfigMap(c, text), specs.Service(c)}
	if sa := specs.ServiceAccount(c); sa != nil {
		always = append(always, sa)
	}
	for _, obj := range always {
		if err := r.apply(ctx, c, obj); err != nil {
			return err
		}
	}
	if err := r.applyOptional(ctx, c); err != nil {
		return err
	}
	return r.apply(ctx, c, specs.Deployment(c, r.image(c), hash))
}

// applyOptional applies or removes the budget, autoscaler and network policy.
func (r *SyncClusterReconciler) applyOptional(ctx context.Context, c *v1alpha1.SyncCluster) error {
	optional := []struct {
		want  client.Object // nil: c does not want it
		empty client.Object
	}{
		{nilIfNil(specs.PodDisruptionBudget(c)), &policyv1.PodDisruptionBudget{}},
		{nilIfNil(specs.HorizontalPodAutoscaler(c)), &autoscalingv2.HorizontalPodAutoscaler{}},
		{nilIfNil(specs.NetworkPolicy(c)), &networkingv1.NetworkPolicy{}},
	}
	for _, o := range optional {
		if o.want != nil {
			if err := r.apply(ctx, c, o.want); err != nil {
				return err
			}
			continue
		}
		o.empty.SetName(specs.Name(c))
		o.empty.SetNamespace(c.Namespace)
		if err := client.IgnoreNotFound(r.Client.Delete(ctx, o.empty)); err != nil {
			return fmt.Errorf("delete the %T of %s: %w", o.empty, c.Name, err)
		}
	}
	return nil
}

// nilIfNil turns a typed nil pointer into a nil interface.
func nilIfNil[T any, P interface {
	*T
	client.Object
}](p P) client.Object {
	if p == nil {
		return nil
	}
	return p
}

// apply server-side applies obj, owned by c.
func (r *SyncClusterReconciler) apply(ctx context.Context, c *v1alpha1.SyncCluster, obj client.Object) error {
	if err := controllerutil.SetControllerReference(c, obj, r.Scheme); err != nil {
		return fmt.Errorf("own %T %s: %w", obj, obj.GetName(), err)
	}
	u, err := toUnstructured(obj)
	if err != nil {
		return err
	}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// toUnstructured converts a built object for apply, without the fields a built
// object never sets (status, creationTimestamp), which would otherwise be claimed.
func toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", obj, err)
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	if tmpl, ok, _ := unstructured.NestedMap(m, "spec", "template", "metadata"); ok {
		delete(tmpl, "creationTimestamp")
		_ = unstructured.SetNestedMap(m, tmpl, "spec", "template", "metadata")
	}
	return &unstructured.Unstructured{Object: m}, nil
}
