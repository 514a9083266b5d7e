package crdt

import (
	"slices"
	"sort"
)

// seqList is the working form of the slow paths (rebased splices, merges, compaction):
// a doubly linked list of runs in a slice, where splitting and inserting are O(1), with
// an optional index from item id to node.
type seqList struct {
	n   []lnode
	idx map[uint32][]span
}

// lnode is one run of a seqList. known and vis annotate a rebased splice's base view:
// known items were inserted by a mutation in the base; vis items are visible in it.
type lnode struct {
	r          seqRun
	prev, next int32
	known, vis bool
}

// span indexes the items c:[seq, seq+n) of node.
type span struct {
	seq, n uint32
	node   int32
}

// The sentinels: the document start and end.
const (
	lhead int32 = 0
	ltail int32 = 1
)

// toList copies the runs of s into a new list.
func (s *Sequence) toList() *seqList {
	count := 0
	for ci := range s.chunks {
		count += len(s.chunks[ci].runs)
	}
	l := s.spare
	s.spare = nil
	if l == nil || cap(l.n) < count+2 {
		l = &seqList{n: make([]lnode, 2, count+count/4+16)}
	}
	l.n, l.idx = l.n[:2], nil
	l.n[lhead] = lnode{prev: -1, next: ltail}
	l.n[ltail] = lnode{prev: lhead, next: -1}
	at := lhead
	for ci := range s.chunks {
		for _, r := range s.chunks[ci].runs {
			at = l.insertAfter(at, r)
		}
	}
	return l
}

// fromList replaces the runs of s with those of l, coalescing where possible.
// The list's memory and the old chunks are kept for reuse by the next slow path.
func (s *Sequence) fromList(l *seqList) {
	pool := make([][]seqRun, 0, len(s.chunks))
	for _, ch := range s.chunks {
		pool = append(pool, ch.runs[:0])
	}
	s.chunks = s.chunks[:0]
	s.vis = 0
	s.cur.ok = false
	var ch seqChunk
	flush := func() {
		if len(ch.runs) > 0 {
			s.chunks = append(s.chunks, ch)
		}
		if k := len(pool) - 1; k >= 0 {
			ch = seqChunk{runs: pool[k]}
			pool = pool[:k]
		} else {
			ch = seqChunk{runs: make([]seqRun, 0, chunkCap)}
		}
	}
	flush()
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		r := l.n[x].r
		if k := len(ch.runs) - 1; k >= 0 && continues(&ch.runs[k], &r) {
			ch.runs[k].n += r.n
		} else {
			if len(ch.runs) >= chunkCap*3/4 {
				flush()
			}
			ch.runs = append(ch.runs, r)
		}
		ch.vis += r.visLen()
		s.vis += r.visLen()
	}
	flush()
	s.spare = l
}

// insertAfter links a new node holding r after node at and returns it.
func (l *seqList) insertAfter(at int32, r seqRun) int32 {
	x := int32(len(l.n))
	next := l.n[at].next
	l.n = append(l.n, lnode{r: r, prev: at, next: next})
	l.n[at].next = x
	l.n[next].prev = x
	return x
}

// splitAt cuts node x after k items; the new node holding the rest is returned.
func (l *seqList) splitAt(x int32, k uint32) int32 {
	a, b := l.n[x].r.split(k)
	l.n[x].r = a
	y := l.insertAfter(x, b)
	l.n[y].known, l.n[y].vis = l.n[x].known, l.n[x].vis
	if l.idx != nil {
		sp := l.idx[a.c]
		i := sort.Search(len(sp), func(i int) bool { return sp[i].seq >= a.seq })
		if i < len(sp) && sp[i].node == x {
			sp[i].n = k
			l.idx[a.c] = slices.Insert(sp, i+1, span{seq: b.seq, n: b.n, node: y})
		}
	}
	return y
}

// buildIndex indexes every node by item id.
func (l *seqList) buildIndex() {
	l.idx = map[uint32][]span{}
	for x := l.n[lhead].next; x != ltail; x = l.n[x].next {
		r := &l.n[x].r
		l.idx[r.c] = append(l.idx[r.c], span{seq: r.seq, n: r.n, node: x})
	}
	for _, sp := range l.idx {
		slices.SortFunc(sp, func(a, b span) int { return cmpInt(a.seq, b.seq) })
	}
}

// index adds node x to the index.
func (l *seqList) index(x int32) {
	r := &l.n[x].r
	sp := l.idx[r.c]
	i := sort.Search(len(sp), func(i int) bool { return sp[i].seq >= r.seq })
	l.idx[r.c] = slices.Insert(sp, i, span{seq: r.seq, n: r.n, node: x})
}

// find returns the node holding item id and id's offset in it.
func (l *seqList) find(id itemID) (int32, uint32, bool) {
	sp := l.idx[id.c]
	i := sort.Search(len(sp), func(i int) bool { return sp[i].seq > id.s }) - 1
	if i < 0 || id.s-sp[i].seq >= sp[i].n {
		return 0, 0, false
	}
	return sp[i].node, id.s - sp[i].seq, true
}

// endingAt returns a node whose last item is id (splitting), or lhead for noID.
func (l *seqList) endingAt(id itemID) (int32, bool) {
	if id.c == noActor {
		return lhead, true
	}
	x, off, ok := l.find(id)
	if !ok {
		return 0, false
	}
	if off+1 < l.n[x].r.n {
		l.splitAt(x, off+1)
	}
	return x, true
}

// startingAt returns a node whose first item is id (splitting), or ltail for noID.
func (l *seqList) startingAt(id itemID) (int32, bool) {
	if id.c == noActor {
		return ltail, true
	}
	x, off, ok := l.find(id)
	if !ok {
		return 0, false
	}
	if off > 0 {
		x = l.splitAt(x, off)
	}
	return x, true
}
