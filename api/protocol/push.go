package protocol

import "encoding/json"

// PushRequest is the body of POST /v1/collections/{collection}/push.
type PushRequest struct {
	Mutations []Mutation `json:"mutations"`
}

// Mutation is one document's change in a push. Paths are dot-separated object keys.
type Mutation struct {
	// ID is the document id.
	ID string `json:"id"`
	// Mid is the client's mutation counter, strictly increasing per client.
	Mid uint64 `json:"mid"`
	// HLC is the client's hybrid logical clock for this mutation; optional.
	HLC string `json:"hlc,omitempty"`
	// Set writes values at last-writer-wins paths.
	Set map[string]json.RawMessage `json:"set,omitempty"`
	// Unset removes last-writer-wins paths (a write of "nothing").
	Unset []string `json:"unset,omitempty"`
	// Incr adds to counter paths.
	Incr map[string]json.RawMessage `json:"incr,omitempty"`
	// Add puts elements into set paths.
	Add map[string][]json.RawMessage `json:"add,omitempty"`
	// Remove takes elements out of set paths.
	Remove map[string][]json.RawMessage `json:"remove,omitempty"`
	// Splice edits text and list paths by index against a base version.
	Splice map[string]Splice `json:"splice,omitempty"`
	// Delete deletes the whole document (an unset of its root).
	Delete bool `json:"delete,omitempty"`
}

// Splice is a list of index-based edits of one text or list field.
type Splice struct {
	// Base is the document version the indices refer to ("" for an empty field).
	Base string `json:"base"`
	// Ops apply one after another.
	Ops []SpliceOp `json:"ops"`
}

// SpliceOp deletes Delete elements at At, then inserts Insert there. For text,
// positions count Unicode code points and Insert is a string; for lists, positions
// count elements and Insert is an array of JSON values.
type SpliceOp struct {
	At     int             `json:"at"`
	Delete int             `json:"delete"`
	Insert json.RawMessage `json:"insert,omitempty"`
}

// PushResponse answers a successful push.
type PushResponse struct {
	Results    []PushResult `json:"results"`
	Checkpoint string       `json:"checkpoint"`
}

// PushResult is the outcome for one mutation of a push.
type PushResult struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}
