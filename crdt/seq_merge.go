package crdt

import (
	"slices"
	"sort"
)

// Merge joins o into s (state-based; o unchanged). Commutative, associative, idempotent:
// any two replicas that have merged the same items materialise identical content.
// Items of o that s lacks are integrated with the same rule as local inserts, each once
// its origins are present (a work list in dependency order); deletions are unioned.
// Sequences of different kinds do not merge: s is left unchanged.
//
// The history is unioned on the assumption every replica satisfies: a state holding a
// mutation of client c holds every earlier mutation of c (a client's mutations are
// applied in mid order, each on a state that has the client's earlier ones).
func (s *Sequence) Merge(o *Sequence) {
	if o == nil || o == s || o.kind != s.kind {
		return
	}
	amap := make([]uint32, len(o.actors))
	for i := range o.actors {
		amap[i] = s.intern(o.actors[i].name)
	}
	preNext := make([]uint32, len(s.actors))
	preSeen := make([]uint64, len(s.actors))
	for i := range s.actors {
		preNext[i], preSeen[i] = s.actors[i].next, s.actors[i].seen
	}
	l := s.toList()
	l.buildIndex()
	var pend []seqRun
	o.eachRun(func(r seqRun) {
		pend = s.mergeRun(l, o, r, amap, pend)
	})
	s.integratePending(l, pend)
	s.fromList(l)
	s.mergeHistory(o, amap, preNext, preSeen)
}

// mergeRun unions the deletions of o's run r into the items s has and returns pend
// extended with the pieces of r that s lacks, their content copied into s.
func (s *Sequence) mergeRun(l *seqList, o *Sequence, r seqRun, amap []uint32, pend []seqRun) []seqRun {
	oc := r.c
	r.c = amap[r.c]
	r.ol, r.or = mapID(r.ol, amap), mapID(r.or, amap)
	for seq, end := r.seq, r.seq+r.n; seq < end; {
		if x, off, ok := l.find(itemID{r.c, seq}); ok {
			n := min(l.n[x].r.n-off, end-seq)
			if r.flags&^l.n[x].r.flags != 0 {
				if off > 0 {
					x = l.splitAt(x, off)
				}
				if n < l.n[x].r.n {
					l.splitAt(x, n)
				}
				l.n[x].r.flags |= r.flags
			}
			seq += n
			continue
		}
		n := min(l.nextSpan(r.c, seq), end) - seq
		_, p := r.split(seq - r.seq)
		p, _ = p.split(n)
		if seq == r.seq {
			p.ol = r.ol
		}
		p.aoff = s.copyContent(p.c, &o.actors[oc], r.aoff+(seq-r.seq), n, p.flags)
		pend = append(pend, p)
		seq += n
	}
	return pend
}

// nextSpan returns the first item after seq that s has of actor c (or the maximum).
func (l *seqList) nextSpan(c, seq uint32) uint32 {
	sp := l.idx[c]
	i := sort.Search(len(sp), func(i int) bool { return sp[i].seq > seq })
	if i < len(sp) {
		return sp[i].seq
	}
	return ^uint32(0)
}

func mapID(id itemID, amap []uint32) itemID {
	if id.c == noActor || int(id.c) >= len(amap) {
		return noID
	}
	return itemID{amap[id.c], id.s}
}

// copyContent appends n elements of oa's arena from aoff to actor c's arena and
// returns where they went. Gaps have no content.
func (s *Sequence) copyContent(c uint32, oa *seqActor, aoff, n uint32, flags uint8) uint32 {
	if flags&runGap != 0 {
		return 0
	}
	a := &s.actors[c]
	if s.kind == SeqText {
		at := uint32(len(a.text))
		a.text = append(a.text, oa.text[aoff:aoff+n]...)
		return at
	}
	at := uint32(len(a.vals))
	a.vals = append(a.vals, oa.vals[aoff:aoff+n]...)
	return at
}

// integratePending integrates the pieces, each after the pieces holding its origins.
// An origin that cannot be found (only in corrupt input) counts as a document end.
func (s *Sequence) integratePending(l *seqList, pend []seqRun) {
	holder := pendingHolder(pend)
	state := make([]uint8, len(pend))
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		p := pend[i]
		for _, dep := range [2]itemID{p.ol, p.or} {
			if j := holder(dep); j >= 0 {
				visit(j)
			}
		}
		left, ok := l.endingAt(p.ol)
		if !ok {
			left = lhead
		}
		right, ok := l.startingAt(p.or)
		if !ok {
			right = ltail
		}
		x := l.newNode(p)
		s.integrate(l, x, left, right)
		l.index(x)
		state[i] = 2
	}
	for i := range pend {
		visit(i)
	}
}

// pendingHolder returns a function giving the index of the piece holding an item,
// or -1.
func pendingHolder(pend []seqRun) func(id itemID) int {
	order := make([]int, len(pend))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if pend[a].c != pend[b].c {
			return cmpInt(pend[a].c, pend[b].c)
		}
		return cmpInt(pend[a].seq, pend[b].seq)
	})
	return func(id itemID) int {
		i := sort.Search(len(order), func(i int) bool {
			p := &pend[order[i]]
			return p.c > id.c || p.c == id.c && p.seq+p.n > id.s
		})
		if i < len(order) && pend[order[i]].has(id) {
			return order[i]
		}
		return -1
	}
}

// mergeHistory unions o's history into s: the records of mutations s had not seen.
func (s *Sequence) mergeHistory(o *Sequence, amap []uint32, preNext []uint32, preSeen []uint64) {
	for oi := range o.actors {
		oa, sa := &o.actors[oi], &s.actors[amap[oi]]
		from := oa.ins.Search(func(r *insRec) bool { return r.seq >= preNext[amap[oi]] })
		oa.ins.EachFrom(from, func(rec insRec) {
			rec.cact = amap[rec.cact]
			sa.ins.Append(rec)
		})
		sa.next = max(sa.next, oa.next)
		sa.seen = max(sa.seen, oa.seen)
	}
	o.dels.Each(func(d *delRec) {
		if d.mid > preSeen[amap[d.dc]] {
			r := *d
			r.dc, r.tc = amap[d.dc], amap[d.tc]
			s.dels.Append(r)
		}
	})
	if !o.items {
		return
	}
	if !s.items {
		s.items, s.maxClk, s.minClk = true, o.maxClk, o.minClk
		return
	}
	s.maxClk = MaxHLC(s.maxClk, o.maxClk)
	if o.minClk.Less(s.minClk) {
		s.minClk = o.minClk
	}
}
