// Package check validates the arguments of store calls, the same way for every
// implementation.
package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// MaxCollectionLen bounds collection names (MongoDB namespaces are limited).
const MaxCollectionLen = 64

// MaxIDLen bounds document ids.
const MaxIDLen = 512

// ErrInvalid marks a call rejected before anything was read or written.
var ErrInvalid = errors.New("invalid store call")

// Collection checks a collection name: 1..64 bytes of letters, digits, '_' and '-'.
func Collection(name string) error {
	if name == "" || len(name) > MaxCollectionLen {
		return fmt.Errorf("%w: collection name %q must have 1 to %d bytes", ErrInvalid, name, MaxCollectionLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("%w: collection name %q: only letters, digits, '_' and '-' are allowed", ErrInvalid, name)
		}
	}
	return nil
}

// ID checks a document id: 1..512 bytes, no NUL.
func ID(id string) error {
	if id == "" || len(id) > MaxIDLen || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%w: document id %q must have 1 to %d bytes and no NUL", ErrInvalid, id, MaxIDLen)
	}
	return nil
}

// IDs checks each id of a Get call.
func IDs(ids []string) error {
	for _, id := range ids {
		if err := ID(id); err != nil {
			return err
		}
	}
	return nil
}

// Writes checks a Commit batch: valid ids, each at most once, no negative ExpectRev.
func Writes(writes []store.Write) error {
	seen := make(map[string]bool, len(writes))
	for _, w := range writes {
		id := w.Record.ID
		if err := ID(id); err != nil {
			return err
		}
		if seen[id] {
			return fmt.Errorf("%w: document id %q appears twice in one commit", ErrInvalid, id)
		}
		seen[id] = true
		if w.ExpectRev < 0 {
			return fmt.Errorf("%w: document %q: negative ExpectRev %d", ErrInvalid, id, w.ExpectRev)
		}
	}
	return nil
}

// Limit returns the page size to use for a Changes call's limit.
func Limit(limit int) int {
	const defaultLimit, maxLimit = 1000, 10000
	switch {
	case limit <= 0:
		return defaultLimit
	case limit > maxLimit:
		return maxLimit
	}
	return limit
}

// Committed returns w's record as committed with the given seq and rev.
func Committed(w store.Write, seq uint64, rev int64) store.Record {
	r := w.Record
	r.Seq, r.Rev = seq, rev
	if r.Deleted && len(r.Doc) == 0 {
		r.Doc = []byte("null")
	}
	return r
}
