// Package v1alpha1 holds the operator's custom resources, group sync.lattice.dev:
// SyncCluster, one per tenant, which the operator turns into a running sync
// cluster, and SyncCompaction, one compaction run. Types only: the operator package
// reconciles them; controller-gen generates the CRDs (config/crd/bases) and the
// deep copies from the kubebuilder markers here.
//
// +kubebuilder:object:generate=true
// +groupName=sync.lattice.dev
package v1alpha1
