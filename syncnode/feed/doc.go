// Package feed defines the change feed's opaque checkpoints: what pull responses,
// push responses and SSE event ids carry, and what clients hand back to resume. A
// checkpoint names a position in one collection's store feed (store.Store.Changes),
// so it means the same on every node.
package feed
