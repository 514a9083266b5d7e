package store

import (
	"fmt"

	"github.com/lattice-sync/lattice/crdt"
)

// NewRecord returns the record of doc: its encoded CRDT state and what derives from
// it (the materialised JSON, the version, whether it is deleted). Seq and Rev are
// left for the store.
func NewRecord(doc *crdt.Doc) Record {
	js, deleted := doc.AppendJSON(nil)
	return Record{ID: doc.ID(), State: doc.AppendBinary(nil), Doc: js, Version: doc.Version(), Deleted: deleted}
}

// DecodeRecord rebuilds the record of document id from its stored state alone:
// stores that keep only the state (the MongoDB store) derive the rest on read, as
// NewRecord did on write.
func DecodeRecord(id string, state []byte) (Record, error) {
	doc, err := crdt.UnmarshalDoc(id, state)
	if err != nil {
		return Record{}, fmt.Errorf("decode stored state: %w", err)
	}
	r := NewRecord(doc)
	r.State = state
	return r, nil
}
