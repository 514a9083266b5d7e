package crdt

import (
	"slices"
)

// clearMark records that mutation (client, mid) wrote at or above a text or list
// field with clock, hiding the items it held then. Splices rebased onto an older base
// must see the field as that base saw it: hidden by the clears the base includes, not
// by later or concurrent ones. A mark with an empty client was folded in by
// compaction and is in every base.
type clearMark struct {
	clock  HLC
	client string
	mid    uint64
}

func (m clearMark) cmp(o clearMark) int { return cmpMutation(m.client, m.mid, o.client, o.mid) }

// addClear records mark in n's list, once per mutation.
func (n *node) addClear(m clearMark) {
	i, found := slices.BinarySearchFunc(n.clears, m, clearMark.cmp)
	if found {
		n.clears[i].clock = MaxHLC(n.clears[i].clock, m.clock)
		return
	}
	n.clears = slices.Insert(n.clears, i, m)
}

// markClears records a write by (client, mid) at clock on every sequence at or below n.
func (n *node) markClears(m clearMark) {
	if n.seq != nil {
		n.addClear(m)
	}
	for _, c := range n.children {
		c.markClears(m)
	}
}

// floorAt returns the greatest clear clock that base includes, counting the client's
// own earlier mutations as seen.
func (n *node) floorAt(base VersionVector, client string, mid uint64) HLC {
	var f HLC
	for _, m := range n.clears {
		if m.client == "" || base.Has(m.client, m.mid) || (m.client == client && m.mid < mid) {
			f = MaxHLC(f, m.clock)
		}
	}
	return f
}

// foldClears merges the marks of mutations every base now covers into one.
func (n *node) foldClears(seen VersionVector) {
	var folded HLC
	kept := n.clears[:0]
	for _, m := range n.clears {
		if m.client == "" || seen.Has(m.client, m.mid) {
			folded = MaxHLC(folded, m.clock)
			continue
		}
		kept = append(kept, m)
	}
	n.clears = kept
	if !folded.IsZero() {
		n.addClear(clearMark{clock: folded})
	}
}
