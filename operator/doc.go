// Package operator assembles the Lattice operator: a controller-runtime manager
// with the SyncCluster reconciler (operator/controller), leader election, health
// probes, metrics and a watched-namespace filter. `lattice operator` runs it;
// operator/specs builds the child objects.
package operator
