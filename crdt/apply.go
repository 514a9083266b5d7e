package crdt

import (
	"errors"
	"fmt"

	"github.com/lattice-sync/lattice/api/protocol"
)

// ErrStaleBase reports a splice whose base is older than the compaction horizon.
var ErrStaleBase = errors.New("splice base is older than the compaction horizon")

// ErrStaleClock reports a new mutation whose clock is at or below the document's
// compaction floor: the history it would be merged against may be gone.
var ErrStaleClock = errors.New("mutation clock is at or below the document's compaction horizon")

// Apply applies mutation m (op-based) and reports whether the state changed. A
// mutation already included (same client, mid <= the client's last applied mid) is a
// retry: nothing changes. On error nothing changes either.
func (d *Doc) Apply(m *Mutation, fields Fields) (bool, error) {
	if d.vv.Has(m.Client, m.Mid) {
		return false, nil
	}
	if !d.floor.Less(m.Clock) {
		return false, fmt.Errorf("%w: %s is not after %s", ErrStaleClock, m.Clock, d.floor)
	}
	if err := d.checkCounters(m); err != nil {
		return false, err
	}
	if err := d.applySplices(m, fields); err != nil {
		return false, err
	}
	d.vv.Observe(m.Client, m.Mid)
	d.maxClock = MaxHLC(d.maxClock, m.Clock)
	if m.Delete {
		d.writeAt("", write{clock: m.Clock, kind: writeTombstone}, m)
	}
	for _, s := range m.Set {
		d.writeAt(s.Path, write{clock: m.Clock, kind: writeValue, value: s.Value}, m)
	}
	for _, p := range m.Unset {
		d.writeAt(p, write{clock: m.Clock, kind: writeTombstone}, m)
	}
	for _, in := range m.Incr {
		n, _ := d.walk(in.Path, true)
		if n.counter == nil {
			n.counter = &counter{}
		}
		n.counter.add(counterEntry{client: m.Client, mid: m.Mid, clock: m.Clock, delta: in.Delta})
	}
	d.applySetEdits(m.Add, m.Clock, true)
	d.applySetEdits(m.Remove, m.Clock, false)
	d.pruneTyped(m)
	return true, nil
}

// checkCounters refuses increments that would take a counter to ±MaxIncrement (2^53)
// or beyond, where float64 sums stop being exact (a sum that rounds onto 2^53 is
// refused too).
func (d *Doc) checkCounters(m *Mutation) error {
	for _, in := range m.Incr {
		sum := in.Delta
		if n, floor := d.walk(in.Path, false); n != nil && n.counter != nil {
			sum += n.counter.value(MaxHLC(floor, n.w.clock))
		}
		if sum >= MaxIncrement || sum <= -MaxIncrement {
			return mutErr(protocol.CodeInvalidMutation, in.Path, "counter %s would reach %g: counters stay within ±(2^53−1), where sums are exact", in.Path, sum)
		}
	}
	return nil
}

// writeAt records w at dotted path p ("" is the root) unless a later write at or above
// p hides it, and prunes what w hides below. Sequences below p remember the write
// made by m (see clearMark) even when it loses.
func (d *Doc) writeAt(p string, w write, m *Mutation) {
	n, floor := d.root, HLC{}
	if p != "" {
		n, floor = d.walk(p, false)
	}
	if n != nil {
		n.markClears(clearMark{clock: w.clock, client: m.Client, mid: m.Mid})
	}
	if hidden(w.clock, floor) || (n != nil && n.w.kind != writeNone && !w.after(n.w)) {
		return
	}
	if n == nil {
		n, _ = d.walk(p, true)
	}
	n.w = w
	n.prune(floor)
}

func (d *Doc) applySetEdits(edits []PathElems, clock HLC, present bool) {
	for _, e := range edits {
		n, _ := d.walk(e.Path, true)
		if n.set == nil {
			n.set = &lwwSet{elems: map[string]setElem{}}
		}
		for _, el := range e.Elems {
			n.set.put(string(el), setElem{clock: clock, present: present})
		}
	}
}

// pruneTyped drops counter and set entries a clear at or above their path hides.
func (d *Doc) pruneTyped(m *Mutation) {
	for _, in := range m.Incr {
		d.pruneAt(in.Path)
	}
	for _, e := range append(m.Add, m.Remove...) {
		d.pruneAt(e.Path)
	}
}

func (d *Doc) pruneAt(p string) {
	if n, floor := d.walk(p, false); n != nil {
		n.prune(floor)
	}
}

// applySplices applies the splices of m. Sequence.Splice is atomic, so one splice
// edits the sequence in place; several are applied to copies first, so that one out
// of range leaves the document unchanged.
func (d *Doc) applySplices(m *Mutation, fields Fields) error {
	done := make([]*Sequence, len(m.Splice))
	for i, s := range m.Splice {
		n, floor := d.walk(s.Path, false)
		seq := NewSequence(seqKind(fields.typeOf(s.Path)))
		if n != nil {
			floor = MaxHLC(floor, n.w.clock)
			if n.seq != nil {
				seq = n.seq
				if len(m.Splice) > 1 {
					seq = seq.Clone()
				}
			}
		}
		base, err := d.resolveBase(s.Base, m)
		if err != nil {
			return fmt.Errorf("splice %q: %w", s.Path, err)
		}
		if base != nil && n != nil {
			floor = n.floorAt(base, m.Client, m.Mid) // the field as the base saw it
		}
		if err := seq.Splice(m.Stamp(), base, floor, s.Ops); err != nil {
			return fmt.Errorf("splice %q: %w", s.Path, err)
		}
		done[i] = seq
	}
	for i, s := range m.Splice {
		n, _ := d.walk(s.Path, true)
		n.seq = done[i]
	}
	return nil
}

func seqKind(t FieldType) SeqKind {
	if t == FieldList {
		return SeqList
	}
	return SeqText
}

// resolveBase returns the base to rebase a splice of m onto, or nil when the base
// (with the client's own earlier mutations, which it has always seen) covers the
// whole state: the indices then refer to the current content, the fast path.
func (d *Doc) resolveBase(base VersionVector, m *Mutation) (VersionVector, error) {
	if base == nil {
		return nil, nil
	}
	if !base.Covers(d.horizon) {
		return nil, ErrStaleBase
	}
	for c, mid := range d.vv {
		have := base[c]
		if c == m.Client && m.Mid-1 > have {
			have = m.Mid - 1
		}
		if have < mid {
			return base, nil
		}
	}
	return nil, nil
}
