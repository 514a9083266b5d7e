package crdt

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// SeqKind says whether a Sequence holds text (code points) or a list (JSON values).
type SeqKind uint8

const (
	// SeqText is a sequence of Unicode code points, materialised as a string.
	SeqText SeqKind = 1
	// SeqList is a sequence of JSON values, materialised as an array.
	SeqList SeqKind = 2
)

// Stamp identifies the mutation making an edit: the client (actor), its per-client
// mutation id (strictly increasing per client) and the mutation's HLC.
type Stamp struct {
	Client string
	Mid    uint64
	Clock  HLC
}

// SpliceOp is one index-based edit: at At, delete Delete elements, then insert.
// For text, At/Delete count Unicode code points and Text is inserted; for lists,
// elements, and Values (each a valid JSON value) are inserted.
type SpliceOp struct {
	At, Delete int
	Text       string
	Values     []json.RawMessage
}

// Horizon is what every live replica has seen: compaction may forget history at or below it.
type Horizon struct {
	Clock HLC
	Seen  VersionVector
}

var (
	// ErrSpliceRange reports a splice index or length outside the content it refers to.
	ErrSpliceRange = errors.New("splice out of range")
	// ErrSpliceKind reports a splice payload that does not fit the sequence kind
	// (values for text, text for a list, invalid JSON values).
	ErrSpliceKind = errors.New("splice payload does not match sequence kind")
	// ErrSpliceStamp reports a stamp without client, mutation id or clock.
	ErrSpliceStamp = errors.New("splice stamp incomplete")
)

// Sequence is a replicated sequence CRDT for text or lists: a FugueMax/YjsMod ordered
// list of run-length-encoded items with tombstones, plus the per-mutation history
// needed to rebase index-based splices made against an older version. See
// docs/text-crdt.md for the design. A Sequence is not safe for concurrent use.
type Sequence struct {
	kind   SeqKind
	actors []seqActor
	byName map[string]uint32
	chunks []seqChunk
	vis    int    // visible (not deleted) items, ignoring floors
	dels   delLog // which mutation deleted which items
	maxClk HLC    // greatest clock of any item ever inserted
	minClk HLC    // smallest clock of any item ever inserted
	items  bool   // whether any item was ever inserted (maxClk/minClk valid)
	cur    seqCursor
	last   uint32 // actor index of the last intern call

	scratch []int32  // reused by integrate
	spare   *seqList // reused by the slow paths
}

// NewSequence returns an empty sequence of the given kind.
func NewSequence(kind SeqKind) *Sequence {
	return &Sequence{kind: kind, byName: map[string]uint32{}, last: noActor}
}

// Kind reports whether s holds text or a list.
func (s *Sequence) Kind() SeqKind { return s.kind }

// Clone returns an independent deep copy of s.
func (s *Sequence) Clone() *Sequence {
	c := &Sequence{kind: s.kind, vis: s.vis, maxClk: s.maxClk, minClk: s.minClk,
		items: s.items, last: noActor}
	c.actors = make([]seqActor, len(s.actors))
	c.byName = make(map[string]uint32, len(s.actors))
	for i := range s.actors {
		c.actors[i] = s.actors[i].clone()
		c.byName[s.actors[i].name] = uint32(i)
	}
	c.chunks = make([]seqChunk, len(s.chunks))
	for i, ch := range s.chunks {
		runs := make([]seqRun, len(ch.runs), chunkCap)
		copy(runs, ch.runs)
		c.chunks[i] = seqChunk{runs: runs, vis: ch.vis}
	}
	c.dels = s.dels.Clone()
	return c
}

// floorActive reports whether floor hides any item, i.e. some item has clock <= floor.
func (s *Sequence) floorActive(floor HLC) bool {
	return s.items && !floor.IsZero() && s.minClk.Compare(floor) <= 0
}

// Live reports whether any item (visible or deleted) has clock > floor: the field then
// materialises (possibly as "" or []); otherwise the field is absent.
func (s *Sequence) Live(floor HLC) bool {
	return s.items && floor.Less(s.maxClk)
}

// Text returns the visible code points with clock > floor. It returns "" for a list.
func (s *Sequence) Text(floor HLC) string {
	if s.kind != SeqText {
		return ""
	}
	var b strings.Builder
	b.Grow(s.vis)
	s.eachVisible(floor, func(a *seqActor, aoff, n uint32) {
		for _, r := range a.text[aoff : aoff+n] {
			if r < utf8.RuneSelf {
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(r)
			}
		}
	})
	return b.String()
}

// Values returns the visible list elements with clock > floor. It returns nil for text.
// The returned values share memory with s and must not be modified.
func (s *Sequence) Values(floor HLC) []json.RawMessage {
	if s.kind != SeqList {
		return nil
	}
	out := make([]json.RawMessage, 0, s.vis)
	s.eachVisible(floor, func(a *seqActor, aoff, n uint32) {
		out = append(out, a.vals[aoff:aoff+n]...)
	})
	return out
}

// eachVisible calls f for every maximal piece of visible content in document order,
// as a range of the inserting actor's content arena.
func (s *Sequence) eachVisible(floor HLC, f func(a *seqActor, aoff, n uint32)) {
	active := s.floorActive(floor)
	for ci := range s.chunks {
		for _, r := range s.chunks[ci].runs {
			if r.flags&runDeleted != 0 {
				continue
			}
			a := &s.actors[r.c]
			if !active {
				f(a, r.aoff, r.n)
				continue
			}
			a.eachClockSpan(r.seq, r.n, func(off, n uint32, clk HLC) {
				if floor.Less(clk) {
					f(a, r.aoff+off, n)
				}
			}, s.actors)
		}
	}
}

// Equal reports whether s and o hold the same items, order and deletions (for tests).
// Content is compared too; the per-mutation history is not.
func (s *Sequence) Equal(o *Sequence) bool {
	if s.kind != o.kind {
		return false
	}
	a, b := s.canonicalRuns(), o.canonicalRuns()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(&b[i]) {
			return false
		}
	}
	return true
}
