package crdt

import (
	"encoding/json"
	"math"
	"slices"
	"unicode/utf8"
)

// seqDecoder reads the encoding of AppendBinary.
type seqDecoder struct {
	r     reader
	s     *Sequence
	names []string
	runs  []seqRun
}

func (d *seqDecoder) decode() (*Sequence, error) {
	ver, kind := d.r.byte(), SeqKind(d.r.byte())
	if d.r.err == nil && (ver != seqCodecVersion || kind != SeqText && kind != SeqList) {
		d.r.fail("unknown version or kind")
	}
	d.s = NewSequence(kind)
	steps := []func(){d.actors, d.history, d.clocks, d.dels, d.readRuns, d.content}
	for _, step := range steps {
		if d.r.err != nil {
			return nil, d.r.err
		}
		step()
	}
	if d.r.err == nil && len(d.r.b) > 0 {
		d.r.fail("trailing bytes")
	}
	if d.r.err != nil {
		return nil, d.r.err
	}
	d.build()
	return d.s, nil
}

func (d *seqDecoder) actors() {
	n := d.r.count(3)
	for i := 0; i < n && d.r.err == nil; i++ {
		name := d.r.string()
		next, seen := d.r.uvarint(), d.r.uvarint()
		switch {
		case d.r.err != nil:
			return
		case len(name) > MaxActorLen || i > 0 && name <= d.names[i-1]:
			d.r.fail("actor names not sorted and unique")
		case next > math.MaxUint32:
			d.r.fail("item counter out of range")
		}
		d.names = append(d.names, name)
		d.s.actors = append(d.s.actors, seqActor{name: name, next: uint32(next), seen: seen})
		d.s.byName[name] = uint32(i)
	}
}

func (d *seqDecoder) clocks() {
	if d.r.byte() == 1 {
		d.s.items = true
		d.s.maxClk, d.s.minClk = d.r.hlc(d.names), d.r.hlc(d.names)
	}
}

func (d *seqDecoder) readRuns() {
	n := d.r.count(3)
	d.runs = make([]seqRun, 0, n)
	prev := seqRun{c: noActor, ol: noID, or: noID}
	for i := 0; i < n && d.r.err == nil; i++ {
		r, ok := d.run(&prev, i > 0)
		if !ok {
			d.r.fail("bad run")
			return
		}
		d.runs = append(d.runs, r)
		prev = r
	}
	if d.r.err == nil && !d.disjoint() {
		d.r.fail("runs overlap")
	}
}

// run reads one run; prev is the previous run (if have).
func (d *seqDecoder) run(prev *seqRun, have bool) (seqRun, bool) {
	h := d.r.byte()
	if h&^encKnownBit != 0 || h&encGap != 0 && h&encDeleted == 0 || !have && h&^(encDeleted|encGap) != 0 {
		return seqRun{}, false
	}
	r := seqRun{flags: h & (encDeleted | encGap), c: prev.c}
	if h&encSameAct == 0 {
		r.c = d.actorIndex(d.r.uvarint())
	}
	seq := uint64(prev.seq) + uint64(prev.n)
	if h&encNextSeq == 0 {
		seq = d.r.uvarint()
	} else if h&encSameAct == 0 {
		return seqRun{}, false
	}
	n := d.r.uvarint()
	if d.r.err != nil || r.c == noActor || n == 0 || seq > math.MaxUint32 || n > math.MaxUint32 ||
		seq+n > uint64(d.s.actors[r.c].next) {
		return seqRun{}, false
	}
	r.seq, r.n = uint32(seq), uint32(n)
	r.ol, r.or = prev.lastID(), prev.or
	if h&encOLChain == 0 {
		r.ol = d.origin()
	}
	if h&encORSame == 0 {
		r.or = d.origin()
	}
	return r, d.r.err == nil
}

// actorIndex checks an actor index read from the input (noActor when out of range).
func (d *seqDecoder) actorIndex(i uint64) uint32 {
	if i >= uint64(len(d.names)) {
		return noActor
	}
	return uint32(i)
}

func (d *seqDecoder) origin() itemID {
	c := d.r.uvarint()
	if c == 0 {
		return noID
	}
	seq := d.r.uvarint()
	if c > uint64(len(d.names)) || seq > math.MaxUint32 {
		d.r.fail("bad origin")
		return noID
	}
	return itemID{uint32(c - 1), uint32(seq)}
}

// disjoint reports whether no two runs share an item.
func (d *seqDecoder) disjoint() bool {
	rs := slices.Clone(d.runs)
	slices.SortFunc(rs, func(a, b seqRun) int {
		if a.c != b.c {
			return cmpInt(a.c, b.c)
		}
		return cmpInt(a.seq, b.seq)
	})
	for i := 1; i < len(rs); i++ {
		if rs[i].c == rs[i-1].c && rs[i].seq < rs[i-1].seq+rs[i-1].n {
			return false
		}
	}
	return true
}

// content reads the content of the non-gap runs into the actors' arenas.
func (d *seqDecoder) content() {
	if d.s.kind == SeqText {
		d.text()
		return
	}
	for i := range d.runs {
		r := &d.runs[i]
		if r.flags&runGap != 0 {
			continue
		}
		a := &d.s.actors[r.c]
		r.aoff = uint32(len(a.vals))
		for k := uint32(0); k < r.n && d.r.err == nil; k++ {
			v := d.r.bytes()
			if d.r.err == nil && !json.Valid(v) {
				d.r.fail("invalid JSON value")
			}
			a.vals = append(a.vals, append(json.RawMessage(nil), v...))
		}
	}
}

func (d *seqDecoder) text() {
	buf := d.r.bytes()
	for i := range d.runs {
		r := &d.runs[i]
		if r.flags&runGap != 0 || d.r.err != nil {
			continue
		}
		a := &d.s.actors[r.c]
		r.aoff = uint32(len(a.text))
		for k := uint32(0); k < r.n; k++ {
			c, size := utf8.DecodeRune(buf)
			if size == 0 || c == utf8.RuneError && size == 1 {
				d.r.fail("text content too short or invalid")
				return
			}
			a.text = append(a.text, c)
			buf = buf[size:]
		}
	}
	if d.r.err == nil && len(buf) > 0 {
		d.r.fail("text content too long")
	}
}

// build lays the decoded runs out in chunks.
func (d *seqDecoder) build() {
	s := d.s
	var ch seqChunk
	for _, r := range d.runs {
		if len(ch.runs) >= chunkCap*3/4 || ch.runs == nil {
			if len(ch.runs) > 0 {
				s.chunks = append(s.chunks, ch)
			}
			ch = seqChunk{runs: make([]seqRun, 0, chunkCap)}
		}
		if k := len(ch.runs) - 1; k >= 0 && continues(&ch.runs[k], &r) {
			ch.runs[k].n += r.n
		} else {
			ch.runs = append(ch.runs, r)
		}
		ch.vis += r.visLen()
		s.vis += r.visLen()
	}
	if len(ch.runs) > 0 {
		s.chunks = append(s.chunks, ch)
	}
}
