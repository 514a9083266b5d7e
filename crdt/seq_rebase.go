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
	undead  [][]ivl    // per actor: deleted items the base still shows (sorted, disjoint)
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
		v.undead = s.undeadRanges(func(d *delRec) bool { return d.mid <= eff[d.dc] })
	}
	return v
}

// undeadRanges returns, per actor, the items that are deleted but not by any deletion
// that inBase accepts: a base shows them. Only deletions outside the base (usually a
// few concurrent ones) are collected and sorted; the others are only scanned.
func (s *Sequence) undeadRanges(inBase func(d *delRec) bool) [][]ivl {
	var out [][]ivl
	s.eachDel(func(d *delRec) {
		if !inBase(d) {
			if out == nil {
				out = make([][]ivl, len(s.actors))
			}
			out[d.tc] = append(out[d.tc], ivl{d.ts, d.ts + d.n})
		}
	})
	if out == nil {
		return nil
	}
	for c := range out {
		out[c] = mergeIvls(out[c])
	}
	s.eachDel(func(d *delRec) {
		if rs := out[d.tc]; len(rs) > 0 && inBase(d) && d.ts < rs[len(rs)-1].hi && d.ts+d.n > rs[0].lo {
			out[d.tc] = subtractIvl(rs, ivl{d.ts, d.ts + d.n})
		}
	})
	return out
}

// eachDel calls f with every deletion record.
func (s *Sequence) eachDel(f func(d *delRec)) { s.dels.Each(f) }

// mergeIvls sorts rs and merges overlapping ranges.
func mergeIvls(rs []ivl) []ivl {
	slices.SortFunc(rs, func(a, b ivl) int { return cmpInt(a.lo, b.lo) })
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.lo <= out[k].hi {
			out[k].hi = max(out[k].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractIvl returns the sorted disjoint ranges rs without the items of x.
func subtractIvl(rs []ivl, x ivl) []ivl {
	out := make([]ivl, 0, len(rs)+1)
	for _, r := range rs {
		if r.hi <= x.lo || r.lo >= x.hi {
			out = append(out, r)
			continue
		}
		if r.lo < x.lo {
			out = append(out, ivl{r.lo, x.lo})
		}
		if r.hi > x.hi {
			out = append(out, ivl{x.hi, r.hi})
		}
	}
	return out
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
	if v.undead != nil {
		rs := v.undead[r.c]
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
		if i := a.recAt(lo) + 1; i < a.ins.Len() {
			cut = min(cut, a.ins.At(i).seq)
		}
	}
	if cut >= hi {
		return 0
	}
	return cut
}

// deleted reports whether r's first item is deleted in the view.
func (v *baseView) deleted(r *seqRun) bool {
	if r.flags&runDeleted == 0 {
		return false
	}
	if v.undead == nil {
		return true
	}
	rs := v.undead[r.c]
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi > r.seq })
	return i >= len(rs) || rs[i].lo > r.seq
}

// hidden reports whether r's first item has a clock at or below the floor.
func (v *baseView) hidden(r *seqRun) bool {
	if !v.floorOn {
		return false
	}
	a := &v.actors[r.c]
	i := a.recAt(r.seq)
	if i < 0 {
		return true
	}
	rec := a.ins.At(i)
	return !v.floor.Less(rec.clock(v.actors))
}

// applyRebased applies ops against the view of base.
func (s *Sequence) applyRebased(st *Stamp, base VersionVector, floor HLC, ops []SpliceOp) error {
	l := s.toList()
	s.newView(*st, base, floor).annotate(l)
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
	rec := insRec{mid: st.Mid, wall: wall, counter: counter, cact: cact}
	s.finishMutation(c, st, first, &rec)
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
