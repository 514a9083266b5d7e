// Package crdt is Lattice's merge engine: hybrid logical clocks, the per-document
// CRDT state (last-writer-wins paths with subtree dominance, counters, sets and a
// sequence CRDT for text and lists), op-based apply, state-based merge, the storage
// encoding and compaction.
//
// The package is pure: it does no I/O and never reads a clock. Callers pass wall
// time in where it matters (see Clock), so every function is deterministic and can
// be tested by tables and scripts.
package crdt
