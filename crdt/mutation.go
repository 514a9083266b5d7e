package crdt

import (
	"encoding/json"
	"fmt"
)

// Mutation is one validated change of one document, ready for Apply. Build it with
// ParseMutation; the engine trusts its invariants (valid paths, types that match the
// collection's Fields, no overlapping paths).
type Mutation struct {
	ID     string
	Client string
	Mid    uint64
	Clock  HLC
	// Delete deletes the document (unset of the root) before the other edits apply.
	Delete bool
	Set    []PathValue
	Unset  []string
	Incr   []PathNumber
	Add    []PathElems
	Remove []PathElems
	Splice []PathSplice
}

// PathValue is a value written at a last-writer-wins path.
type PathValue struct {
	Path  string
	Value json.RawMessage
}

// PathNumber is an increment of a counter path.
type PathNumber struct {
	Path  string
	Delta float64
}

// PathElems lists set elements (JSON scalars) of a set path.
type PathElems struct {
	Path  string
	Elems []json.RawMessage
}

// PathSplice is a splice of a text or list path. Base is nil when the indices refer to
// the current content; otherwise the decoded base version.
type PathSplice struct {
	Path string
	Base VersionVector
	Ops  []SpliceOp
}

// Stamp returns the identity of m as the sequence CRDT sees it.
func (m *Mutation) Stamp() Stamp { return Stamp{Client: m.Client, Mid: m.Mid, Clock: m.Clock} }

// MutationError says why a mutation was refused: Code is a PROTOCOL.md error code,
// Field the offending path (may be empty).
type MutationError struct {
	Code  string
	Field string
	Msg   string
}

func (e *MutationError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

func mutErr(code, field, format string, args ...any) *MutationError {
	return &MutationError{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}
