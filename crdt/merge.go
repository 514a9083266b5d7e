package crdt

// Merge joins o into d (state-based; o is unchanged). Merge is commutative,
// associative and idempotent, and agrees with Apply: merging replicas that applied
// subsets of some mutations gives the state of one replica that applied them all.
func (d *Doc) Merge(o *Doc) {
	d.vv.Join(o.vv)
	d.maxClock = MaxHLC(d.maxClock, o.maxClock)
	if d.horizon == nil {
		d.horizon = VersionVector{}
	}
	d.horizon.Join(o.horizon)
	d.floor = MaxHLC(d.floor, o.floor)
	d.root.merge(o.root)
	d.root.prune(HLC{})
}

func (n *node) merge(o *node) {
	if o.w.kind != writeNone && (n.w.kind == writeNone || o.w.after(n.w)) {
		n.w = o.w
	}
	for k, oc := range o.children {
		n.child(k, true).merge(oc)
	}
	if o.counter != nil {
		if n.counter == nil {
			n.counter = &counter{}
		}
		n.counter.merge(o.counter)
	}
	if o.set != nil {
		if n.set == nil {
			n.set = &lwwSet{elems: map[string]setElem{}}
		}
		n.set.merge(o.set)
	}
	if o.seq != nil {
		if n.seq == nil {
			n.seq = NewSequence(o.seq.Kind())
		}
		n.seq.Merge(o.seq)
		for _, m := range o.clears {
			n.addClear(m)
		}
	}
}
