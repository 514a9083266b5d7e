package specs

import (
	"fmt"
	"maps"
	"strings"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/fanout"
)

// Label keys the operator sets.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelTenant    = "sync.lattice.dev/tenant"

	// AnnotationConfigHash on the pod template changes with the node's
	// configuration, so a configuration change rolls the pods.
	AnnotationConfigHash = "sync.lattice.dev/config-hash"
)

// Ports of a sync node.
const (
	HTTPPort  = 8080
	AdminPort = 9090
)

// Paths inside a node's container.
const (
	ConfigDir  = "/etc/lattice"
	ConfigFile = "config.yaml"
	AuthDir    = "/etc/lattice/auth"
)

// SelectorLabels select the pods of cluster c; they never change.
func SelectorLabels(c *v1alpha1.SyncCluster) map[string]string {
	return map[string]string{LabelName: "lattice", LabelInstance: c.Name, LabelComponent: "sync-node"}
}

// Labels are every label of c's objects.
func Labels(c *v1alpha1.SyncCluster) map[string]string {
	l := SelectorLabels(c)
	l[LabelManagedBy] = "lattice-operator"
	l[LabelTenant] = c.Spec.Tenant
	return l
}

// podLabels are the pod template's labels: the overrides, then Labels (which win).
func podLabels(c *v1alpha1.SyncCluster) map[string]string {
	l := maps.Clone(c.Spec.Pod.Labels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, Labels(c))
	return l
}

// Name is the name of c's child objects.
func Name(c *v1alpha1.SyncCluster) string { return c.Name }

// Database is the tenant's MongoDB database: the node's default for the tenant
// (lattice_ and the tenant with '-' as '_') unless the spec names one.
func Database(c *v1alpha1.SyncCluster) string {
	if c.Spec.MongoDB.Database != "" {
		return c.Spec.MongoDB.Database
	}
	return "lattice_" + strings.ReplaceAll(c.Spec.Tenant, "-", "_")
}

// Stream is the key of the tenant's Redis stream ("" without Redis).
func Stream(c *v1alpha1.SyncCluster) string {
	if c.Spec.Redis == nil {
		return ""
	}
	if p := c.Spec.Redis.StreamPrefix; p != "" {
		return p + c.Spec.Tenant
	}
	return fanout.DefaultStreamPrefix + c.Spec.Tenant
}

// Endpoint is the in-cluster URL of c's sync API.
func Endpoint(c *v1alpha1.SyncCluster) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", Name(c), c.Namespace, HTTPPort)
}
