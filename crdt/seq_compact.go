package crdt

import (
	"encoding/json"
	"slices"
	"sort"
)

// Compact forgets what no future operation can need, given that every future splice has
// a base covering h.Seen (the caller refuses older bases with 409 stale_base):
//
//   - deleted items whose inserting mutation and some deleting mutation are in h.Seen
//     lose their content and history and become gaps: an id range with origins, kept
//     so that a concurrent item from a replica that has not compacted can still be
//     ordered against them (as Yjs keeps GC ranges);
//   - the deletion records of mutations in h.Seen are dropped (every future base hides
//     those items anyway);
//   - items inserted by mutations in h.Seen lose their mutation id (mid 0: in every base).
//     Their clocks are kept, so the materialised content is unchanged for every floor,
//     in particular every floor <= h.Clock.
func (s *Sequence) Compact(h Horizon) {
	l := s.toList()
	seen := h.Seen
	if seen == nil {
		seen = VersionVector{}
	}
	s.newView(Stamp{}, seen, HLC{}).annotate(l)
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		nd := &l.n[x]
		if nd.known && !nd.vis && nd.r.flags&runDeleted != 0 {
			nd.r.flags |= runGap
		}
	}
	s.compactArenas(l)
	s.fromList(l)
	s.compactHistory(l, seen)
}

// compactArenas rewrites the content arenas with the content of non-gap items only.
func (s *Sequence) compactArenas(l *seqList) {
	text := make([][]rune, len(s.actors))
	vals := make([][]json.RawMessage, len(s.actors))
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		r := &l.n[x].r
		if r.flags&runGap != 0 {
			r.aoff = 0
			continue
		}
		a := &s.actors[r.c]
		if s.kind == SeqText {
			at := uint32(len(text[r.c]))
			text[r.c] = append(text[r.c], a.text[r.aoff:r.aoff+r.n]...)
			r.aoff = at
			continue
		}
		at := uint32(len(vals[r.c]))
		vals[r.c] = append(vals[r.c], a.vals[r.aoff:r.aoff+r.n]...)
		r.aoff = at
	}
	for i := range s.actors {
		s.actors[i].text = slices.Clip(text[i])
		s.actors[i].vals = slices.Clip(vals[i])
	}
}

// compactHistory forgets the mids of mutations in seen, the insertion records that
// cover only gaps and the deletion records of mutations in seen.
func (s *Sequence) compactHistory(l *seqList, seen VersionVector) {
	live := make([][]ivl, len(s.actors))
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		if r := &l.n[x].r; r.flags&runGap == 0 {
			live[r.c] = append(live[r.c], ivl{r.seq, r.seq + r.n})
		}
	}
	for i := range s.actors {
		a := &s.actors[i]
		slices.SortFunc(live[i], func(a, b ivl) int { return cmpInt(a.lo, b.lo) })
		limit := seen[a.name]
		var out insLog
		recs := make([]insRec, 0, a.ins.Len())
		a.ins.Each(func(r insRec) { recs = append(recs, r) })
		for j, rec := range recs {
			hi := a.next
			if j+1 < len(recs) {
				hi = recs[j+1].seq
			}
			if !overlaps(live[i], rec.seq, hi) {
				continue
			}
			if rec.mid <= limit {
				rec.mid = 0
				if out.Len() > 0 && sameClockRec(&out.last, &rec) {
					continue
				}
			}
			out.Append(rec)
		}
		a.ins = out
	}
	s.dropDels(seen)
}

// dropDels forgets the deletion records of mutations in seen.
func (s *Sequence) dropDels(seen VersionVector) {
	var dels delLog
	s.dels.Each(func(d *delRec) {
		if d.mid > seen[s.actors[d.dc].name] {
			dels.Append(*d)
		}
	})
	s.dels = dels
}

// sameClockRec reports whether two compacted records can be one: same clock.
func sameClockRec(a, b *insRec) bool {
	return a.mid == 0 && b.mid == 0 && a.wall == b.wall && a.counter == b.counter && a.cact == b.cact
}

// overlaps reports whether the sorted disjoint ranges rs meet [lo, hi).
func overlaps(rs []ivl, lo, hi uint32) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi > lo })
	return i < len(rs) && rs[i].lo < hi
}
