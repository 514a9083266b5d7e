package crdt

import (
	"slices"
)

// counter is a counter CRDT: one entry per increment, identified by the mutation
// (client, mid) that made it, so a retried increment merges as the same entry. base
// is the sum of the entries compaction folded away, all at or below baseClock.
type counter struct {
	base      float64
	baseClock HLC
	entries   []counterEntry // sorted by (client, mid)
}

type counterEntry struct {
	client string
	mid    uint64
	clock  HLC
	delta  float64
}

func (e counterEntry) cmp(o counterEntry) int { return cmpMutation(e.client, e.mid, o.client, o.mid) }

func (c *counter) clone() *counter {
	return &counter{base: c.base, baseClock: c.baseClock, entries: slices.Clone(c.entries)}
}

// add records an increment unless the same (client, mid) is already there or it is
// at or below the compacted base.
func (c *counter) add(e counterEntry) {
	if hidden(e.clock, c.baseClock) {
		return
	}
	i, found := slices.BinarySearchFunc(c.entries, e, counterEntry.cmp)
	if !found {
		c.entries = slices.Insert(c.entries, i, e)
	}
}

func (c *counter) merge(o *counter) {
	if c.baseClock.Less(o.baseClock) {
		c.base, c.baseClock = o.base, o.baseClock
		c.prune(HLC{})
	}
	for _, e := range o.entries {
		c.add(e)
	}
}

// prune drops entries hidden by floor or folded into the base.
func (c *counter) prune(floor HLC) {
	if hidden(c.baseClock, floor) {
		c.base, c.baseClock = 0, HLC{}
	}
	floor = MaxHLC(floor, c.baseClock)
	c.entries = slices.DeleteFunc(c.entries, func(e counterEntry) bool { return hidden(e.clock, floor) })
}

// live reports whether anything of the counter shows above floor.
func (c *counter) live(floor HLC) bool {
	if !c.baseClock.IsZero() && !hidden(c.baseClock, floor) {
		return true
	}
	for _, e := range c.entries {
		if !hidden(e.clock, floor) {
			return true
		}
	}
	return false
}

// value sums what shows above floor in a fixed order, so every replica gets the same
// floating-point result.
func (c *counter) value(floor HLC) float64 {
	sum := 0.0
	if !hidden(c.baseClock, floor) {
		sum = c.base
	}
	for _, e := range c.entries {
		if !hidden(e.clock, floor) {
			sum += e.delta
		}
	}
	return sum
}

// lwwSet is a set of JSON scalars where each element is present or removed by the
// latest add or remove of that element (per-element last-writer-wins).
type lwwSet struct {
	elems map[string]setElem // key: compact JSON of the element
}

type setElem struct {
	clock   HLC
	present bool
}

func (s *lwwSet) clone() *lwwSet {
	c := &lwwSet{elems: make(map[string]setElem, len(s.elems))}
	for k, e := range s.elems {
		c.elems[k] = e
	}
	return c
}

// put records an add (present) or remove of elem at clock; the later clock wins, and
// at equal clocks a remove.
func (s *lwwSet) put(elem string, e setElem) {
	old, ok := s.elems[elem]
	if ok && (e.clock.Less(old.clock) || (e.clock == old.clock && !old.present)) {
		return
	}
	s.elems[elem] = e
}

func (s *lwwSet) merge(o *lwwSet) {
	for k, e := range o.elems {
		s.put(k, e)
	}
}

func (s *lwwSet) prune(floor HLC) {
	for k, e := range s.elems {
		if hidden(e.clock, floor) {
			delete(s.elems, k)
		}
	}
}

// live reports whether an element is present above floor: a set whose elements were
// all removed is absent, as it is once compaction forgets the removals.
func (s *lwwSet) live(floor HLC) bool {
	for _, e := range s.elems {
		if e.present && !hidden(e.clock, floor) {
			return true
		}
	}
	return false
}

// appendJSON appends the present elements as a JSON array, in the order of their
// encoding, so every replica lists them alike.
func (s *lwwSet) appendJSON(b []byte, floor HLC) []byte {
	keys := make([]string, 0, len(s.elems))
	for k, e := range s.elems {
		if e.present && !hidden(e.clock, floor) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
	}
	return append(b, ']')
}
