package crdt

import (
	"encoding/json"
	"slices"
)

// noActor marks a missing origin: the start (origin left) or end (origin right) of
// the document.
const noActor = ^uint32(0)

// itemID names one item: an interned actor index and the actor's sequence number.
// Actor c's items in this sequence are numbered 0, 1, 2... in the order c's mutations
// inserted them; since a client's mutations are applied in mid order and each sees the
// client's earlier edits, the same splice gets the same ids on every replica.
type itemID struct{ c, s uint32 }

var noID = itemID{c: noActor}

// seqActor is everything the sequence keeps per client: its content arena, its item
// counter and the history (which mutation inserted which items, with which clock).
type seqActor struct {
	name string
	next uint32 // items [0, next) have been allocated
	seen uint64 // greatest mid of this client applied to the sequence
	text []rune
	vals []json.RawMessage
	ins  insLog // sorted by seq; one record per inserting mutation
}

// insRec says that items seq, seq+1, ... (up to the next record) were inserted by
// mutation mid with the given clock. Mid 0 marks history forgotten by compaction:
// such items are in every base version.
type insRec struct {
	mid     uint64
	wall    int64
	seq     uint32
	counter uint32
	cact    uint32 // interned actor of the clock
}

// delRec says that mutation (dc, mid) deleted items tc:[ts, ts+n).
type delRec struct {
	mid    uint64
	dc, tc uint32
	ts, n  uint32
}

func (a *seqActor) clone() seqActor {
	c := *a
	c.text = slices.Clone(a.text)
	c.vals = slices.Clone(a.vals)
	c.ins = a.ins.Clone()
	return c
}

// intern returns the index of actor name, adding it if new.
func (s *Sequence) intern(name string) uint32 {
	if int(s.last) < len(s.actors) && s.actors[s.last].name == name {
		return s.last
	}
	i, ok := s.byName[name]
	if !ok {
		if s.byName == nil { // a zero Sequence
			s.byName = map[string]uint32{}
		}
		i = uint32(len(s.actors))
		s.actors = append(s.actors, seqActor{name: name})
		s.byName[name] = i
	}
	s.last = i
	return i
}

// packClock returns h's fields with its actor interned.
func (s *Sequence) packClock(h HLC) (wall int64, counter, cact uint32) {
	cact = s.last
	if int(cact) >= len(s.actors) || s.actors[cact].name != h.Actor {
		saved := s.last
		cact = s.intern(h.Actor)
		s.last = saved
	}
	return h.Wall, h.Counter, cact
}

func (r *insRec) clock(actors []seqActor) HLC {
	return HLC{Wall: r.wall, Counter: r.counter, Actor: actors[r.cact].name}
}

// recAt returns the index of the history record covering item seq, or -1.
func (a *seqActor) recAt(seq uint32) int {
	return a.ins.Search(func(r *insRec) bool { return r.seq > seq }) - 1
}

// eachClockSpan splits items [seq, seq+n) by inserting mutation and calls f with each
// piece's offset, length and clock.
func (a *seqActor) eachClockSpan(seq, n uint32, f func(off, n uint32, clk HLC), actors []seqActor) {
	i := a.recAt(seq)
	for off := uint32(0); off < n; i++ {
		end := seq + n
		if i+1 < a.ins.Len() {
			if nx := a.ins.At(i + 1); nx.seq < end {
				end = nx.seq
			}
		}
		var clk HLC
		if i >= 0 {
			rec := a.ins.At(i)
			clk = rec.clock(actors)
		}
		f(off, end-seq-off, clk)
		off = end - seq
	}
}

// knownLimit returns the first item of a not inserted by a mutation with mid <= max:
// items below it are in a base that includes a's mutations up to max.
func (a *seqActor) knownLimit(max uint64) uint32 {
	if i := a.ins.Search(func(r *insRec) bool { return r.mid > max }); i < a.ins.Len() {
		return a.ins.At(i).seq
	}
	return a.next
}

// namedRun is a run with actor names instead of indices, for comparing replicas.
type namedRun struct {
	c, olc, orc string
	seq, n      uint32
	ols, ors    uint32
	flags       uint8
	text        []rune
	vals        []json.RawMessage
}

func (a *namedRun) equal(b *namedRun) bool {
	if a.c != b.c || a.olc != b.olc || a.orc != b.orc || a.seq != b.seq || a.n != b.n ||
		a.ols != b.ols || a.ors != b.ors || a.flags != b.flags || !slices.Equal(a.text, b.text) {
		return false
	}
	return slices.EqualFunc(a.vals, b.vals, func(x, y json.RawMessage) bool { return string(x) == string(y) })
}

// canonicalRuns returns the runs of s, maximally coalesced whatever the layout of
// the content arenas, with names resolved.
func (s *Sequence) canonicalRuns() []namedRun {
	var out []namedRun
	var prev seqRun
	s.eachRun(func(r seqRun) {
		if len(out) > 0 && sameChain(&prev, &r) {
			s.addContent(&out[len(out)-1], r)
			out[len(out)-1].n += r.n
			prev = r
			return
		}
		out = append(out, s.named(r))
		prev = r
	})
	return out
}

func (s *Sequence) named(r seqRun) namedRun {
	n := namedRun{c: s.actors[r.c].name, seq: r.seq, n: r.n, ols: r.ol.s, ors: r.or.s, flags: r.flags}
	if r.ol.c != noActor {
		n.olc = s.actors[r.ol.c].name
	}
	if r.or.c != noActor {
		n.orc = s.actors[r.or.c].name
	}
	s.addContent(&n, r)
	return n
}

func (s *Sequence) addContent(n *namedRun, r seqRun) {
	if r.flags&runGap != 0 {
		return
	}
	a := &s.actors[r.c]
	if s.kind == SeqText {
		n.text = append(n.text, a.text[r.aoff:r.aoff+r.n]...)
	} else {
		n.vals = append(n.vals, a.vals[r.aoff:r.aoff+r.n]...)
	}
}

// eachRun calls f with every run in document order.
func (s *Sequence) eachRun(f func(r seqRun)) {
	for ci := range s.chunks {
		for _, r := range s.chunks[ci].runs {
			f(r)
		}
	}
}
