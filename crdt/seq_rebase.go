package crdt

import (
	"slices"
	"sort"
)

// The rebased path: a splice whose indices refer to an older version (or to content
// partly hidden by a floor). The runs are copied into a seqList, split where the
// base view changes and annotated; each op is mapped onto the base view, turned into
// CRDT operations (delete these items; insert after this origin left and before this
// origin right) and integrated with the concurrent items the base did not have.

// baseView says which items a base version knows and which it shows.
type baseView struct {
	all     bool       // the base is the current state: every item known
	limit   []uint32   // per actor: items below are known
	dead    [][]ivl    // per target actor: sorted disjoint ranges deleted in the base
	floorOn bool       // whether the floor hides anything
	floor   HLC        // items with clock <= floor are hidden
	actors  []seqActor // the actors of the sequence
}

// ivl is the item range [lo, hi) of one actor.
type ivl struct{ lo, hi uint32 }

// newView returns the view of the version base (nil: the current state) as seen by
// mutation st, which also sees its own client's earlier mutations.
func (s *Sequence) newView(st Stamp, base VersionVector, floor HLC) *baseView {
	v := &baseView{all: base == nil, floorOn: s.floorActive(floor), floor: floor, actors: s.actors}
	v.limit = make([]uint32, len(s.actors))
	eff := make([]uint64, len(s.actors))
	for i := range s.actors {
		a := &s.actors[i]
		if v.all {
			v.limit[i] = a.next
			continue
		}
		eff[i] = base[a.name]
		if st.Mid > 0 && a.name == st.Client && st.Mid-1 > eff[i] {
			eff[i] = st.Mid - 1
		}
		v.limit[i] = a.knownLimit(eff[i])
	}
	if !v.all {
		v.dead = s.deadRanges(func(d *delRec) bool { return d.mid <= eff[d.dc] })
	}
	return v
}

// deadRanges returns, per target actor, the merged item ranges deleted by the
// deletions that in accepts.
func (s *Sequence) deadRanges(in func(d *delRec) bool) [][]ivl {
	dead := make([][]ivl, len(s.actors))
	for _, blk := range s.dels.All() {
		for i := range blk {
			if d := &blk[i]; in(d) {
				dead[d.tc] = append(dead[d.tc], ivl{d.ts, d.ts + d.n})
			}
		}
	}
	for c, rs := range dead {
		slices.SortFunc(rs, func(a, b ivl) int { return cmpInt(a.lo, b.lo) })
		out := rs[:0]
		for _, r := range rs {
			if k := len(out) - 1; k >= 0 && r.lo <= out[k].hi {
				out[k].hi = max(out[k].hi, r.hi)
				continue
			}
			out = append(out, r)
		}
		dead[c] = out
	}
	return dead
}

// annotate splits the nodes of l where the view changes and sets known and vis.
func (v *baseView) annotate(l *seqList) {
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		r := l.n[x].r
		if r.flags&runGap != 0 {
			l.n[x].known, l.n[x].vis = true, false
			continue
		}
		if cut := v.nextCut(&r); cut != 0 {
			l.splitAt(x, cut-r.seq)
		}
		known := r.seq < v.limit[r.c]
		l.n[x].known = known
		l.n[x].vis = known && !v.deleted(&r) && !v.hidden(&r)
	}
}

// nextCut returns the first item of r, after its first, where the view changes, or 0.
func (v *baseView) nextCut(r *seqRun) uint32 {
	lo, hi := r.seq, r.seq+r.n
	cut := hi
	if lim := v.limit[r.c]; lim > lo && lim < cut {
		cut = lim
	}
	if !v.all {
		rs := v.dead[r.c]
		i := sort.Search(len(rs), func(i int) bool { return rs[i].hi > lo })
		if i < len(rs) {
			b := rs[i].lo
			if b <= lo {
				b = rs[i].hi
			}
			cut = min(cut, b)
		}
	}
	if v.floorOn {
		a := &v.actors[r.c]
		if i := a.recAt(lo) + 1; i < a.ins.Len() && a.ins.At(i).seq < cut {
			cut = a.ins.At(i).seq
		}
	}
	if cut >= hi {
		return 0
	}
	return cut
}

// deleted reports whether r's first item is deleted in the view.
func (v *baseView) deleted(r *seqRun) bool {
	if v.all {
		return r.flags&runDeleted != 0
	}
	rs := v.dead[r.c]
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi > r.seq })
	return i < len(rs) && rs[i].lo <= r.seq
}

// hidden reports whether r's first item has a clock at or below the floor.
func (v *baseView) hidden(r *seqRun) bool {
	if !v.floorOn {
		return false
	}
	a := &v.actors[r.c]
	i := a.recAt(r.seq)
	return i < 0 || !v.floor.Less(a.ins.At(i).clock(v.actors))
}

// applyRebased applies ops against the view of base.
func (s *Sequence) applyRebased(st Stamp, base VersionVector, floor HLC, ops []SpliceOp) error {
	l := s.toList()
	s.newView(st, base, floor).annotate(l)
	n := 0
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		if l.n[x].vis {
			n += int(l.n[x].r.n)
		}
	}
	if err := checkRanges(n, ops); err != nil {
		return err
	}
	c := s.intern(st.Client)
	wall, counter, cact := s.packClock(st.Clock)
	first := s.actors[c].next
	for i := range ops {
		op := &ops[i]
		if op.Delete > 0 {
			s.listDelete(l, op.At, op.Delete, c, st.Mid)
		}
		if nr, ok := s.newRun(c, op); ok {
			s.listInsert(l, op.At, nr)
		}
	}
	s.fromList(l)
	s.finishMutation(c, st, first, insRec{mid: st.Mid, wall: wall, counter: counter, cact: cact})
	return nil
}

// visNode returns the node holding view item p and p's offset in it.
func visNode(l *seqList, p int) (int32, uint32) {
	pos := 0
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		if !l.n[x].vis {
			continue
		}
		n := int(l.n[x].r.n)
		if p < pos+n {
			return x, uint32(p - pos)
		}
		pos += n
	}
	return ltail, 0
}

// listDelete deletes k view items from p on behalf of mutation (dc, mid).
func (s *Sequence) listDelete(l *seqList, p, k int, dc uint32, mid uint64) {
	for k > 0 {
		x, off := visNode(l, p)
		if off > 0 {
			x = l.splitAt(x, off)
		}
		if uint32(k) < l.n[x].r.n {
			l.splitAt(x, uint32(k))
		}
		r := &l.n[x].r
		r.flags |= runDeleted
		l.n[x].vis = false
		s.recordDelete(dc, mid, r.c, r.seq, r.n)
		k -= int(r.n)
	}
}

// listInsert inserts nr so that it becomes view item p: its origin left is view item
// p-1, its origin right the next item the base knows; it is then integrated among the
// concurrent items between them.
func (s *Sequence) listInsert(l *seqList, p int, nr seqRun) {
	left := lhead
	if p > 0 {
		x, off := visNode(l, p-1)
		if off+1 < l.n[x].r.n {
			l.splitAt(x, off+1)
		}
		left = x
	}
	right := l.n[left].next
	for right != ltail && !l.n[right].known {
		right = l.n[right].next
	}
	nr.ol, nr.or = noID, noID
	if left != lhead {
		nr.ol = l.n[left].r.lastID()
	}
	if right != ltail {
		nr.or = l.n[right].r.firstID()
	}
	x := l.newNode(nr)
	l.n[x].known, l.n[x].vis = true, true
	s.integrate(l, x, left, right)
}
