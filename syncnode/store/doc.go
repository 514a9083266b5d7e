// Package store keeps documents and the change feed: the Store interface and its two
// implementations, MongoDB (production) and an embedded bbolt file (single node).
// Both pass the same suite (storetest). A Store knows documents only as opaque CRDT
// state bytes, their materialised JSON and their version; merging happens above it.
//
// Subpackages: mongostore (MongoDB and wire-compatible servers; the feed's design and
// proof are in docs/change-feed.md), embedded (bbolt; docs/embedded-store.md),
// storetest (the conformance suite) and ferrettest (test-only: FerretDB embedded in
// the test process, or a real MongoDB from LATTICE_TEST_MONGODB_URI).
package store
