package controller_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/lattice-sync/lattice/api/v1alpha1"
)

// TestCELRulesRefuseWithTheirMessages: each rule of the CRD refuses its bad spec,
// at create or update, with a message a person understands.
func TestCELRulesRefuseWithTheirMessages(t *testing.T) {
	ns := newNamespace(t)
	createTests := []struct {
		name, want string
		edit       func(*v1alpha1.SyncCluster)
	}{
		{"replicas and autoscaling", "set either replicas or autoscaling", func(c *v1alpha1.SyncCluster) {
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 4, TargetCPUUtilization: ptr.To[int32](70)}
		}},
		{"max below min", "maxReplicas must be at least minReplicas", func(c *v1alpha1.SyncCluster) {
			c.Spec.Replicas = nil
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 5, MaxReplicas: 2, TargetCPUUtilization: ptr.To[int32](70)}
		}},
		{"autoscaling without a target", "needs targetStreamsPerPod, targetCPUUtilization or both", func(c *v1alpha1.SyncCluster) {
			c.Spec.Replicas = nil
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 4}
		}},
		{"operator scaling without a streams target", "mode Operator scales on targetStreamsPerPod", func(c *v1alpha1.SyncCluster) {
			c.Spec.Replicas = nil
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 4, TargetCPUUtilization: ptr.To[int32](70)}
		}},
		{"JWKS without audience", "needs audience and issuer", func(c *v1alpha1.SyncCluster) {
			c.Spec.Auth = v1alpha1.AuthSpec{JWKSURL: "https://idp.example.com/jwks"}
		}},
		{"two key sources", "exactly one of jwksURL and keySecret", func(c *v1alpha1.SyncCluster) {
			c.Spec.Auth.JWKSURL, c.Spec.Auth.Audience, c.Spec.Auth.Issuer = "https://idp.example.com/jwks", "a", "i"
		}},
		{"several nodes without Redis", "redis is required", func(c *v1alpha1.SyncCluster) { c.Spec.Redis = nil }},
		{"bad tenant", "spec.tenant", func(c *v1alpha1.SyncCluster) { c.Spec.Tenant = "Acme Corp" }},
		{"unknown field type", `spec.collections.workorders.fields.hours: Unsupported value: "gauge"`, func(c *v1alpha1.SyncCluster) {
			c.Spec.Collections["workorders"].Fields["hours"] = "gauge"
		}},
	}
	for _, tt := range createTests {
		c := sampleCluster(t, ns)
		tt.edit(c)
		err := k8s.Create(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	c := sampleCluster(t, ns)
	c.Spec.MongoDB.Database = "acme_docs"
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	updateTests := []struct {
		name, want string
		edit       func(*v1alpha1.SyncCluster)
	}{
		{"tenant changed", "tenant is immutable", func(c *v1alpha1.SyncCluster) { c.Spec.Tenant = "other" }},
		{"database changed", "mongodb.database is immutable", func(c *v1alpha1.SyncCluster) { c.Spec.MongoDB.Database = "elsewhere" }},
		{"database unset", "mongodb.database is immutable", func(c *v1alpha1.SyncCluster) { c.Spec.MongoDB.Database = "" }},
	}
	for _, tt := range updateTests {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur v1alpha1.SyncCluster
			if err := get(t, ns, c.Name, &cur); err != nil {
				return err
			}
			tt.edit(&cur)
			return k8s.Update(context.Background(), &cur)
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
