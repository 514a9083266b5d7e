// Package api holds Lattice's shared types and no logic: api/protocol has the wire
// types of PROTOCOL.md (push, pull, stream, errors); api/v1alpha1 will hold the
// custom resource types of the operator.
package api
