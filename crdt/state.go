package crdt

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Doc is the CRDT state of one document. The zero value is not usable: use NewDoc.
//
// Last-writer-wins paths form a tree of nodes; each node keeps the latest write made
// exactly at its path. A write at p with clock t hides every write at or below p with
// a smaller clock (subtree dominance), so such writes are pruned and the tree stays
// canonical: the same set of writes gives the same tree whatever the order they
// arrived in. Typed paths (counter, set, text, list) keep their own CRDT in the node
// at the declared path, hidden below the greatest clock written at or above it.
type Doc struct {
	id       string
	root     *node
	vv       VersionVector
	maxClock HLC
	// horizon is the Seen part of the last compaction's horizon: splices must have a
	// base that covers it.
	horizon VersionVector
	// floor is the Clock part of the last compaction's horizon: history at or below
	// it may be gone, so a new mutation must have a clock above it
	// (docs/compaction.md).
	floor HLC
}

type writeKind uint8

const (
	writeNone writeKind = iota
	writeValue
	writeTombstone
)

// write is the latest write made exactly at a node's path.
type write struct {
	clock HLC
	kind  writeKind
	value json.RawMessage // writeValue only: compact JSON (objects are overlaid by children)
}

// after reports whether w wins over o: the later clock, ties broken by content so
// that every replica picks the same winner.
func (w write) after(o write) bool {
	if c := w.clock.Compare(o.clock); c != 0 {
		return c > 0
	}
	if w.kind != o.kind {
		return w.kind > o.kind
	}
	return bytes.Compare(w.value, o.value) > 0
}

type node struct {
	w        write
	children map[string]*node
	counter  *counter
	set      *lwwSet
	seq      *Sequence
	clears   []clearMark // sequence nodes only, sorted by (client, mid)
}

// NewDoc returns the empty state of document id.
func NewDoc(id string) *Doc {
	return &Doc{id: id, root: &node{}, vv: VersionVector{}}
}

// ID returns the document id.
func (d *Doc) ID() string { return d.id }

// Version returns the opaque version string of the current state.
func (d *Doc) Version() string { return d.vv.VersionString() }

// VersionVector returns a copy of the mutations the state includes.
func (d *Doc) VersionVector() VersionVector { return d.vv.Clone() }

// MaxClock returns the greatest clock of any write the state has seen: a clock the
// server stamps must be greater, so that the later push wins.
func (d *Doc) MaxClock() HLC { return d.maxClock }

// Floor returns the clock a new mutation must be above (zero: never compacted).
func (d *Doc) Floor() HLC { return d.floor }

// Clone returns a deep, independent copy of d.
func (d *Doc) Clone() *Doc {
	return &Doc{id: d.id, root: d.root.clone(), vv: d.vv.Clone(), maxClock: d.maxClock, horizon: d.horizon.Clone(), floor: d.floor}
}

func (n *node) clone() *node {
	c := &node{w: n.w}
	if n.children != nil {
		c.children = make(map[string]*node, len(n.children))
		for k, ch := range n.children {
			c.children[k] = ch.clone()
		}
	}
	if n.counter != nil {
		c.counter = n.counter.clone()
	}
	if n.set != nil {
		c.set = n.set.clone()
	}
	if n.seq != nil {
		c.seq = n.seq.Clone()
		c.clears = slices.Clone(n.clears)
	}
	return c
}

// child returns the child at key, creating it when create is set.
func (n *node) child(key string, create bool) *node {
	if c := n.children[key]; c != nil || !create {
		return c
	}
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := &node{}
	n.children[key] = c
	return c
}

// empty reports whether n holds nothing and can be removed from its parent.
func (n *node) empty() bool {
	return n.w.kind == writeNone && len(n.children) == 0 && n.counter == nil && n.set == nil && n.seq == nil
}

// hidden reports whether a write with clock c is hidden by floor, the greatest clock
// written at or above its path by another write: ties go to the ancestor.
func hidden(c, floor HLC) bool { return !floor.Less(c) }

// prune drops everything at or below n that a write with clock floor hides, except
// sequence items, which later splices may still refer to (they stay hidden instead).
func (n *node) prune(floor HLC) {
	if n.w.kind != writeNone && hidden(n.w.clock, floor) {
		n.w = write{}
	}
	floor = MaxHLC(floor, n.w.clock)
	if n.counter != nil {
		n.counter.prune(floor)
	}
	if n.set != nil {
		n.set.prune(floor)
	}
	for k, c := range n.children {
		c.prune(floor)
		if c.empty() {
			delete(n.children, k)
		}
	}
}

// walk returns the node at dotted path p and the greatest write clock strictly above
// it, creating nodes on the way when create is set.
func (d *Doc) walk(p string, create bool) (*node, HLC) {
	n, floor := d.root, HLC{}
	for k := range strings.SplitSeq(p, ".") {
		floor = MaxHLC(floor, n.w.clock)
		if n = n.child(k, create); n == nil {
			return nil, floor
		}
	}
	return n, floor
}
