// Package syncnode is the Lattice sync node: the HTTP server that takes client
// mutations, merges them with the crdt engine into the store and serves the change
// feed. Its parts live in subpackages: config, auth, store, feed, merge, httpapi.
package syncnode
