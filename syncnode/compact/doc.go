// Package compact holds what `lattice compact` builds on (docs/compaction.md): the
// stability horizon of a collection, computed from the store's client registry —
// what every client seen within the retention acknowledged — and, from it, the
// crdt.Horizon below which one document may forget its history.
package compact
