package crdt

// Compact forgets history that no future operation can need, given horizon h: what
// every live replica has seen (h.Clock: every clock at or below it has reached all of
// them; h.Seen: the mutations they have all applied, listing every live client). The
// materialised document does not change. It returns how many bytes of storage
// encoding it saved.
//
// What goes: tombstones (unset paths) at or below h.Clock, except the root's (a
// deleted document stays deleted) and those above a text or list field, whose hidden
// items they keep hidden; counter increments at or below h.Clock, folded into one base
// sum; set elements removed at or below h.Clock; version-vector entries of clients
// absent from h.Seen (retired: they must reset before syncing again); and, in
// sequences, deleted items and per-item history below the horizon.
func (d *Doc) Compact(h Horizon) int {
	before := len(d.AppendBinary(nil))
	for c := range d.vv {
		if _, live := h.Seen[c]; !live {
			delete(d.vv, c)
		}
	}
	if d.root.holdsSeq() {
		d.horizon = h.Seen.Clone() // splices must now name a base that covers it
	}
	d.floor = MaxHLC(d.floor, h.Clock) // and new mutations a clock above what may be gone
	for _, c := range d.root.children {
		c.compact(h)
	}
	d.root.prune(HLC{})
	return before - len(d.AppendBinary(nil))
}

func (n *node) compact(h Horizon) {
	if n.w.kind == writeTombstone && hidden(n.w.clock, h.Clock) && !n.holdsSeq() {
		n.w = write{}
	}
	if n.counter != nil {
		n.counter.fold(h.Clock)
	}
	if n.set != nil {
		for k, e := range n.set.elems {
			if !e.present && hidden(e.clock, h.Clock) {
				delete(n.set.elems, k)
			}
		}
	}
	if n.seq != nil {
		n.seq.Compact(h)
		n.foldClears(h.Seen)
	}
	for _, c := range n.children {
		c.compact(h)
	}
}

// holdsSeq reports whether a text or list field lies at or below n.
func (n *node) holdsSeq() bool {
	if n.seq != nil {
		return true
	}
	for _, c := range n.children {
		if c.holdsSeq() {
			return true
		}
	}
	return false
}

// fold moves the increments at or below horizon into the base sum.
func (c *counter) fold(horizon HLC) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if hidden(e.clock, horizon) {
			c.base += e.delta
			c.baseClock = MaxHLC(c.baseClock, e.clock)
			continue
		}
		kept = append(kept, e)
	}
	c.entries = kept
}
