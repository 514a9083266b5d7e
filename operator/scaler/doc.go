// Package scaler is the operator's own autoscaler (SyncCluster autoscaling mode
// Operator): it reads each node's open live streams from its /metrics and decides a
// replica count, without a metrics adapter. Decide is pure and deterministic (the
// clock is an argument), table-tested for bursts, flapping, silent pods and the
// scale-down window; Scrape reads one node's metrics.
package scaler
