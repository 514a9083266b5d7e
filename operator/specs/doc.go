// Package specs builds the Kubernetes objects of a SyncCluster (the node's
// configuration, Deployment, Service, autoscaler, disruption budget, network policy,
// service account) by pure functions: no client, no I/O, the same input gives the
// same objects, so each is table-tested and the reconciler only applies them.
package specs
