// Package store keeps documents and the change feed: the Store interface and its two
// implementations, MongoDB (production) and an embedded bbolt file (single node).
// Both pass the same suite (storetest). A Store knows documents only as opaque CRDT
// state bytes, their materialised JSON and their version; merging happens above it.
package store
