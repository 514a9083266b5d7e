// Package protocol holds the JSON wire types of Lattice sync protocol v1
// (PROTOCOL.md), shared by the server, the crdt engine's decoders and the tests.
// It contains no logic.
package protocol
