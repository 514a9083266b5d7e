package crdt

// Clocks returns, for every path that shows in the materialised document, the clock
// of the write that set it (for typed fields, the latest clock among the entries that
// show). Pull responses carry it when a client asks for ?clocks=1, so a client can
// run its own last-writer-wins merge against the server's.
func (d *Doc) Clocks() map[string]string {
	out := map[string]string{}
	d.root.clocks("", HLC{}, out)
	return out
}

func (n *node) clocks(path string, floor HLC, out map[string]string) {
	if path != "" && n.w.kind == writeValue && !hidden(n.w.clock, floor) {
		out[path] = n.w.clock.String()
	}
	inner := MaxHLC(floor, n.w.clock)
	if c := n.typedClock(inner); !c.IsZero() {
		out[path] = c.String()
	}
	for k, c := range n.children {
		p := k
		if path != "" {
			p = path + "." + k
		}
		c.clocks(p, inner, out)
	}
}

// typedClock returns the latest clock among a typed field's entries above floor.
func (n *node) typedClock(floor HLC) HLC {
	var c HLC
	if n.counter != nil {
		for _, e := range n.counter.entries {
			if !hidden(e.clock, floor) {
				c = MaxHLC(c, e.clock)
			}
		}
		if !hidden(n.counter.baseClock, floor) {
			c = MaxHLC(c, n.counter.baseClock)
		}
	}
	if n.set != nil {
		for _, e := range n.set.elems {
			if !hidden(e.clock, floor) {
				c = MaxHLC(c, e.clock)
			}
		}
	}
	if n.seq != nil && n.seq.shows(floor) {
		c = MaxHLC(c, n.seq.maxClk) // the latest insert (deletes carry no clock)
	}
	return c
}
