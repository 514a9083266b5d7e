// Package controller reconciles SyncClusters and SyncCompactions: it validates a
// cluster as its nodes would, applies the children operator/specs builds (server-side
// apply, owner references), reports status through conditions and Events, and
// carries out the deletion policy. Files are split by aspect: synccluster.go (the
// loop), children.go (applying objects), status.go (conditions), secrets.go
// (credentials the pods need), finalizer.go (deletion).
package controller
