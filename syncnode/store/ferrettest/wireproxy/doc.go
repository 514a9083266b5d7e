// Package wireproxy is a MongoDB wire-protocol proxy that runs write commands one at
// a time, for putting in front of FerretDB v1.24.
//
// FerretDB v1.24 runs every update and findAndModify as "query, change the document
// in Go, replace it by _id", with nothing holding the document in between: two
// clients that compare-and-swap the same document at the same moment can both
// succeed, which MongoDB's single-document atomicity rules out. The proxy restores
// that atomicity: it sits between the drivers and FerretDB and lets one write command
// at a time through (from any connection), while reads pass freely. It is stronger
// than MongoDB (a whole multi-document write command runs alone), which only removes
// interleavings inside one command; Lattice's store never relies on those.
//
// Tests reach it through package ferrettest; hack/ferretdb uses it so that several
// lattice nodes can share one FerretDB in a local cluster.
package wireproxy
