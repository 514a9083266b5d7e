// Package merge runs one push: validate every mutation, load the documents, apply
// the mutations with the crdt engine, write the results to the store with
// compare-and-swap (re-merging on conflict), and publish what committed. It is the
// one place where mutations become stored state; the native API and the adapters for
// client libraries all come through here.
package merge
