package crdt

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// Splice applies the ops of one mutation. base == nil: the indices refer to the current
// visible content (fast path, the common case). Otherwise the indices refer to the content
// visible at version base — items inserted by mutations in base and not deleted by a
// mutation in base — plus every earlier mutation of st.Client (mid < st.Mid: a client always
// sees its own edits), plus the effects of the earlier ops of this same call (ops apply one
// after another, like the trace patches). The server rebases them onto the sequence: concurrent
// items inserted since base stay where they are. Items with clock <= floor are hidden (a
// later LWW clear/unset of the field or document dominates them): they are not in the base's
// index space either. On error (index out of range of the base content, wrong payload for the
// kind, incomplete stamp) s is unchanged and the error wraps ErrSpliceRange, ErrSpliceKind
// or ErrSpliceStamp.
//
// A stamp whose mid is not above the greatest mid of st.Client already applied to s is
// a retry: Splice returns nil and changes nothing.
func (s *Sequence) Splice(st Stamp, base VersionVector, floor HLC, ops []SpliceOp) error {
	if st.Client == "" || st.Mid == 0 || st.Clock.IsZero() {
		return fmt.Errorf("splice by %q mid %d: %w", st.Client, st.Mid, ErrSpliceStamp)
	}
	var next uint32
	if i, ok := s.lookup(st.Client); ok {
		if st.Mid <= s.actors[i].seen {
			return nil // a retry
		}
		next = s.actors[i].next
	}
	if err := s.checkPayload(next, ops); err != nil {
		return fmt.Errorf("splice by %q mid %d: %w", st.Client, st.Mid, err)
	}
	if (base == nil || s.baseCovers(base, st)) && !s.floorActive(floor) {
		if err := checkRanges(s.vis, ops); err != nil {
			return fmt.Errorf("splice by %q mid %d: %w", st.Client, st.Mid, err)
		}
		s.applyFast(&st, ops)
		return nil
	}
	if err := s.applyRebased(&st, base, floor, ops); err != nil {
		return fmt.Errorf("splice by %q mid %d: %w", st.Client, st.Mid, err)
	}
	return nil
}

// checkPayload checks that every op carries the payload of s's kind, and that the
// client's item counter (next) cannot overflow.
func (s *Sequence) checkPayload(next uint32, ops []SpliceOp) error {
	size := uint64(next)
	for i := range ops {
		size += uint64(len(ops[i].Text) + len(ops[i].Values))
	}
	if size > math.MaxUint32 {
		return fmt.Errorf("client inserted too many elements: %w", ErrSpliceRange)
	}
	for i := range ops {
		op := &ops[i]
		if op.At < 0 || op.Delete < 0 {
			return fmt.Errorf("op %d: negative index or length: %w", i, ErrSpliceRange)
		}
		switch s.kind {
		case SeqText:
			if len(op.Values) > 0 {
				return fmt.Errorf("op %d: values inserted into text: %w", i, ErrSpliceKind)
			}
		case SeqList:
			if op.Text != "" {
				return fmt.Errorf("op %d: text inserted into a list: %w", i, ErrSpliceKind)
			}
			for j, v := range op.Values {
				if !json.Valid(v) {
					return fmt.Errorf("op %d value %d: invalid JSON: %w", i, j, ErrSpliceKind)
				}
			}
		default:
			return fmt.Errorf("sequence of unknown kind %d: %w", s.kind, ErrSpliceKind)
		}
	}
	return nil
}

// checkRanges checks that every op fits the content it applies to, given that the
// content has n elements before the first op.
func checkRanges(n int, ops []SpliceOp) error {
	for i := range ops {
		op := &ops[i]
		if op.At > n || op.Delete > n-op.At {
			return fmt.Errorf("op %d: at %d delete %d in %d elements: %w", i, op.At, op.Delete, n, ErrSpliceRange)
		}
		k := len(op.Text) + len(op.Values) // an upper bound of opLen
		if i+1 < len(ops) || n+k-op.Delete > math.MaxInt32 {
			k = opLen(op) // exact: later ops depend on it
		}
		n += k - op.Delete
		if n > math.MaxInt32 {
			return fmt.Errorf("op %d: sequence too long: %w", i, ErrSpliceRange)
		}
	}
	return nil
}

// opLen returns the number of elements op inserts.
func opLen(op *SpliceOp) int {
	if len(op.Values) > 0 {
		return len(op.Values)
	}
	return utf8.RuneCountInString(op.Text)
}

// baseCovers reports whether base, with st's own earlier mutations, includes every
// mutation applied to s: the base content is then the current content.
func (s *Sequence) baseCovers(base VersionVector, st Stamp) bool {
	for i := range s.actors {
		a := &s.actors[i]
		if a.seen == 0 {
			continue
		}
		m := base[a.name]
		if st.Mid > 0 && a.name == st.Client && st.Mid-1 > m {
			m = st.Mid - 1
		}
		if m < a.seen {
			return false
		}
	}
	return true
}

// applyFast applies ops, already checked, to the current content.
func (s *Sequence) applyFast(st *Stamp, ops []SpliceOp) {
	c := s.intern(st.Client)
	wall, counter, cact := st.Clock.Wall, st.Clock.Counter, c
	if st.Clock.Actor != st.Client {
		wall, counter, cact = s.packClock(st.Clock)
	}
	first := s.actors[c].next
	for i := range ops {
		op := &ops[i]
		if op.Delete > 0 {
			s.fastDelete(op.At, op.Delete, c, st.Mid)
		}
		if nr, ok := s.newRun(c, op); ok {
			s.fastInsert(op.At, nr)
		}
	}
	rec := insRec{mid: st.Mid, wall: wall, counter: counter, cact: cact}
	s.finishMutation(c, st, first, &rec)
}

// newRun appends op's content to actor c's arena and allocates its ids.
func (s *Sequence) newRun(c uint32, op *SpliceOp) (seqRun, bool) {
	a := &s.actors[c]
	var aoff uint32
	if s.kind == SeqText {
		aoff = uint32(len(a.text))
		if cap(a.text)-len(a.text) < len(op.Text) {
			// Double: append's gentler growth for large slices allocates several
			// times the final arena over a long session.
			nt := make([]rune, len(a.text), max(2*cap(a.text), len(a.text)+len(op.Text), 16))
			copy(nt, a.text)
			a.text = nt
		}
		for _, r := range op.Text {
			a.text = append(a.text, r)
		}
		n := uint32(len(a.text)) - aoff
		if n == 0 {
			return seqRun{}, false
		}
		a.next += n
		return seqRun{c: c, seq: a.next - n, n: n, aoff: aoff}, true
	}
	if len(op.Values) == 0 {
		return seqRun{}, false
	}
	aoff = uint32(len(a.vals))
	for _, v := range op.Values {
		a.vals = append(a.vals, append(json.RawMessage(nil), v...))
	}
	n := uint32(len(op.Values))
	a.next += n
	return seqRun{c: c, seq: a.next - n, n: n, aoff: aoff}, true
}

// finishMutation records the history of mutation st, which inserted actor c's items
// from first on (if any), and the clock bounds.
func (s *Sequence) finishMutation(c uint32, st *Stamp, first uint32, rec *insRec) {
	a := &s.actors[c]
	a.seen = max(a.seen, st.Mid)
	if a.next == first {
		return
	}
	rec.seq = first
	a.ins.Append(*rec)
	if !s.items {
		s.items, s.maxClk, s.minClk = true, st.Clock, st.Clock
		return
	}
	if s.maxClk.Less(st.Clock) {
		setClock(&s.maxClk, st.Clock)
	}
	if st.Clock.Less(s.minClk) {
		setClock(&s.minClk, st.Clock)
	}
}

// setClock sets *dst to h without rewriting the actor string when it is unchanged.
func setClock(dst *HLC, h HLC) {
	if dst.Actor != h.Actor {
		dst.Actor = h.Actor
	}
	dst.Wall, dst.Counter = h.Wall, h.Counter
}

// lookup returns the index of actor name, if interned.
func (s *Sequence) lookup(name string) (uint32, bool) {
	if i := s.last; int(i) < len(s.actors) && s.actors[i].name == name {
		return i, true
	}
	i, ok := s.byName[name]
	return i, ok
}
