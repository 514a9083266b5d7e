package crdt

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Storage encoding of a Doc, version 2 (version 3 when compaction set a floor):
//
//	"Ld" 0x02  actors  vv  horizon  maxClock  node
//	"Ld" 0x03  actors  vv  horizon  maxClock  floor  node
//	actors  = count, strings            (every actor, once; others refer by index)
//	vv      = count, (actor index, mid)
//	node    = flags, [write], [counter], [set], [seq], children
//	flags   = bit 0 write, 1 counter, 2 set, 3 seq
//	write   = kind, clock, [value]      (value for kind 1)
//	counter = base float64, base clock, count, (client, mid, clock, delta)
//	set     = count, (element JSON, clock, present)
//	seq     = bytes (Sequence.AppendBinary), count, (clock, client, mid) clear marks
//	children = count, (key, node)
//
// A clock is wall, counter, actor index. Inside node, the wall is written as a signed
// varint below maxClock's wall: most clocks of a document are close to its latest
// one, so a 6-byte wall becomes one or two bytes. Other integers are unsigned
// varints, floats little-endian IEEE 754, strings and bytes length-prefixed. Object
// keys, counter entries and set elements are sorted, so equal states encode to
// equal bytes.
//
// The document id is not part of the encoding: every store keeps it beside the state
// already, and UnmarshalDoc is given it. Version 1 (still decoded) wrote the id after
// the version byte and every wall as an absolute unsigned varint.
const (
	encMagic0, encMagic1 = 'L', 'd'
	encVersion           = 2
	encVersion1          = 1
	encVersion3          = 3 // version 2 with the compaction floor after maxClock
	maxDecodeDepth       = 128
)

const (
	flagWrite = 1 << iota
	flagCounter
	flagSet
	flagSeq
)

// encoder writes the body while interning actors; the table goes in front at the end.
// Most documents have a handful of actors: they are found by a scan of order, and
// the map is only built past smallActors.
type encoder struct {
	body   []byte
	actors map[string]uint64
	order  []string
	base   int64 // maxClock's wall, once written: node clocks are relative to it
	rel    bool
}

const smallActors = 8

func (e *encoder) actor(a string) uint64 {
	if e.actors == nil {
		for i, o := range e.order {
			if o == a {
				return uint64(i)
			}
		}
	} else if i, ok := e.actors[a]; ok {
		return i
	}
	i := uint64(len(e.order))
	e.order = append(e.order, a)
	switch {
	case e.actors != nil:
		e.actors[a] = i
	case len(e.order) > smallActors:
		e.actors = make(map[string]uint64, 2*len(e.order))
		for j, o := range e.order {
			e.actors[o] = uint64(j)
		}
	}
	return i
}

func (e *encoder) hlc(h HLC) {
	if e.rel {
		e.body = appendHLCBelow(e.body, h, e.base, e.actor(h.Actor))
		return
	}
	e.body = appendHLC(e.body, h, e.actor(h.Actor))
}

func (e *encoder) uvarint(v uint64) { e.body = binary.AppendUvarint(e.body, v) }

// AppendBinary appends the storage encoding of d to b.
func (d *Doc) AppendBinary(b []byte) []byte {
	e := &encoder{body: make([]byte, 0, 256), order: make([]string, 0, smallActors)}
	e.vector(d.vv)
	e.vector(d.horizon)
	e.hlc(d.maxClock)
	version := byte(encVersion)
	if !d.floor.IsZero() {
		version = encVersion3
		e.hlc(d.floor)
	}
	e.base, e.rel = d.maxClock.Wall, true
	e.node(d.root)
	b = slices.Grow(b, 3+binary.MaxVarintLen64+len(e.body)+16*len(e.order))
	b = append(b, encMagic0, encMagic1, version)
	b = binary.AppendUvarint(b, uint64(len(e.order)))
	for _, a := range e.order {
		b = appendString(b, a)
	}
	return append(b, e.body...)
}

func (e *encoder) vector(v VersionVector) {
	cs := v.sortedClients()
	e.uvarint(uint64(len(cs)))
	for _, c := range cs {
		e.uvarint(e.actor(c))
		e.uvarint(v[c])
	}
}

func (e *encoder) node(n *node) {
	var flags byte
	for bit, on := range []bool{n.w.kind != writeNone, n.counter != nil, n.set != nil, n.seq != nil} {
		if on {
			flags |= 1 << bit
		}
	}
	e.body = append(e.body, flags)
	if n.w.kind != writeNone {
		e.body = append(e.body, byte(n.w.kind))
		e.hlc(n.w.clock)
		if n.w.kind == writeValue {
			e.body = appendBytes(e.body, n.w.value)
		}
	}
	if n.counter != nil {
		e.counter(n.counter)
	}
	if n.set != nil {
		e.set(n.set)
	}
	if n.seq != nil {
		e.body = appendBytes(e.body, n.seq.AppendBinary(nil))
		e.uvarint(uint64(len(n.clears)))
		for _, m := range n.clears {
			e.hlc(m.clock)
			e.uvarint(e.actor(m.client))
			e.uvarint(m.mid)
		}
	}
	keys := sortedKeys(n.children)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.body = appendString(e.body, k)
		e.node(n.children[k])
	}
}

func (e *encoder) counter(c *counter) {
	e.body = appendFloat(e.body, c.base)
	e.hlc(c.baseClock)
	e.uvarint(uint64(len(c.entries)))
	for _, en := range c.entries {
		e.uvarint(e.actor(en.client))
		e.uvarint(en.mid)
		e.hlc(en.clock)
		e.body = appendFloat(e.body, en.delta)
	}
}

func (e *encoder) set(s *lwwSet) {
	keys := sortedKeys(s.elems)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		el := s.elems[k]
		e.body = appendString(e.body, k)
		e.hlc(el.clock)
		present := byte(0)
		if el.present {
			present = 1
		}
		e.body = append(e.body, present)
	}
}

// UnmarshalDoc decodes the state of document id, an encoding made by AppendBinary
// (or by version 1, which held the id itself: it must be id). It never panics, and
// allocates no more than the input justifies, whatever the bytes.
func UnmarshalDoc(id string, b []byte) (*Doc, error) {
	if len(b) < 3 || b[0] != encMagic0 || b[1] != encMagic1 {
		return nil, fmt.Errorf("%w: not a document state", ErrCorrupt)
	}
	if b[2] != encVersion && b[2] != encVersion1 && b[2] != encVersion3 {
		return nil, fmt.Errorf("%w: unknown document encoding version %d", ErrCorrupt, b[2])
	}
	dec := decoder{r: reader{b: b[3:]}}
	if b[2] == encVersion1 && dec.r.string() != id && dec.r.err == nil {
		return nil, fmt.Errorf("%w: the state is of another document than %q", ErrCorrupt, id)
	}
	d := &Doc{id: id}
	n := dec.r.count(1)
	for i := 0; i < n && dec.r.err == nil; i++ {
		dec.actors = append(dec.actors, dec.r.string())
	}
	d.vv, d.horizon = dec.vector(), dec.vector()
	d.maxClock = dec.hlc()
	if b[2] == encVersion3 {
		d.floor = dec.hlc()
	}
	dec.base, dec.rel = d.maxClock.Wall, b[2] != encVersion1
	d.root = dec.node(0)
	if dec.r.err == nil && len(dec.r.b) != 0 {
		dec.r.fail("trailing bytes")
	}
	if dec.r.err != nil {
		return nil, fmt.Errorf("decode document: %w", dec.r.err)
	}
	return d, nil
}

type decoder struct {
	r      reader
	actors []string
	base   int64 // as encoder.base
	rel    bool
}

// hlc reads a clock, relative to base once the encoding's clocks are.
func (dec *decoder) hlc() HLC {
	if dec.rel {
		return dec.r.hlcBelow(dec.base, dec.actors)
	}
	return dec.r.hlc(dec.actors)
}

func (dec *decoder) actor() string {
	i := dec.r.uvarint()
	if dec.r.err == nil && i >= uint64(len(dec.actors)) {
		dec.r.fail("actor index out of range")
	}
	if dec.r.err != nil {
		return ""
	}
	return dec.actors[i]
}

func (dec *decoder) vector() VersionVector {
	v := VersionVector{}
	n := dec.r.count(2)
	for i := 0; i < n && dec.r.err == nil; i++ {
		a := dec.actor()
		v[a] = dec.r.uvarint()
	}
	return v
}

func (dec *decoder) node(depth int) *node {
	if depth > maxDecodeDepth {
		dec.r.fail("nesting too deep")
	}
	flags := dec.r.byte()
	if dec.r.err != nil {
		return &node{}
	}
	n := &node{}
	if flags&flagWrite != 0 {
		n.w = dec.write()
	}
	if flags&flagCounter != 0 {
		n.counter = dec.counter()
	}
	if flags&flagSet != 0 {
		n.set = dec.set()
	}
	if flags&flagSeq != 0 {
		n.seq = dec.seq()
		n.clears = dec.clears()
	}
	dec.children(n, depth)
	return n
}

func (dec *decoder) write() write {
	w := write{kind: writeKind(dec.r.byte())}
	w.clock = dec.hlc()
	switch w.kind {
	case writeValue:
		w.value = append([]byte(nil), dec.r.bytes()...)
		if len(w.value) == 0 {
			dec.r.fail("empty value")
		}
	case writeTombstone:
	default:
		dec.r.fail("unknown write kind")
	}
	return w
}

func (dec *decoder) counter() *counter {
	c := &counter{base: dec.r.float(), baseClock: dec.hlc()}
	n := dec.r.count(12)
	for i := 0; i < n && dec.r.err == nil; i++ {
		e := counterEntry{client: dec.actor(), mid: dec.r.uvarint()}
		e.clock = dec.hlc()
		e.delta = dec.r.float()
		c.entries = append(c.entries, e)
	}
	return c
}

func (dec *decoder) set() *lwwSet {
	s := &lwwSet{elems: map[string]setElem{}}
	n := dec.r.count(5)
	for i := 0; i < n && dec.r.err == nil; i++ {
		k := dec.r.string()
		el := setElem{clock: dec.hlc(), present: dec.r.byte() == 1}
		s.elems[k] = el
	}
	return s
}

func (dec *decoder) seq() *Sequence {
	b := dec.r.bytes()
	if dec.r.err != nil {
		return nil
	}
	s, err := DecodeSequence(b)
	if err != nil {
		dec.r.err = err
	}
	return s
}

func (dec *decoder) children(n *node, depth int) {
	cnt := dec.r.count(2)
	for i := 0; i < cnt && dec.r.err == nil; i++ {
		k := dec.r.string()
		if n.children == nil {
			n.children = make(map[string]*node, cnt)
		}
		n.children[k] = dec.node(depth + 1)
	}
}

func (dec *decoder) clears() []clearMark {
	n := dec.r.count(5)
	var out []clearMark
	for i := 0; i < n && dec.r.err == nil; i++ {
		m := clearMark{clock: dec.hlc(), client: dec.actor(), mid: dec.r.uvarint()}
		out = append(out, m)
	}
	return out
}
