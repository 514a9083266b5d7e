package crdt

import "strings"

// integrate links the unlinked node x between left and right, where left's last item
// is x's origin left (or lhead), right's first item x's origin right (or ltail), and
// every node strictly between them is concurrent with x. The rule is YjsMod, which
// Weidner and Kleppmann (2023) show equivalent to FugueMax: it never interleaves two
// runs typed concurrently at one place, and orders ties by actor name, then seq.
//
// Each node is judged by its first item: the other items of a run have their own
// predecessor as origin left, which lies after left, so they never change the outcome.
func (s *Sequence) integrate(l *seqList, x, left, right int32) {
	rng := s.scratch[:0]
	for y := l.n[left].next; y != right && y != ltail; y = l.n[y].next {
		rng = append(rng, y)
	}
	dest := left // x goes after dest
	scanning, broke := false, false
	xr := &l.n[x].r
	for i, y := range rng {
		if !scanning {
			dest = l.n[y].prev
		}
		o := &l.n[y].r
		cl := cmpOrigin(l, o.ol, xr.ol, rng[:i])
		if cl < 0 {
			broke = true
			break
		}
		if cl > 0 {
			continue
		}
		switch cr := -cmpOrigin(l, o.or, xr.or, rng[i+1:]); {
		case cr < 0:
			scanning = true
		case cr == 0 && s.idLess(xr.firstID(), o.firstID()):
			broke = true
		default:
			scanning = false
		}
		if broke {
			break
		}
	}
	if !broke && !scanning && len(rng) > 0 {
		dest = rng[len(rng)-1]
	}
	s.scratch = rng
	l.link(x, dest)
}

// cmpOrigin compares an origin id of a concurrent node with the new item's: 0 when they
// are equal, +1 when id is in the nodes between, -1 when it lies outside them. For
// origin left the nodes between are those from left to the node judged: +1 means
// "after left". For origin right they are those from the node judged to right: the
// caller negates, so +1 means "after right".
func cmpOrigin(l *seqList, id, ref itemID, between []int32) int {
	if id == ref {
		return 0
	}
	if id.c == noActor {
		return -1
	}
	for _, y := range between {
		if l.n[y].r.has(id) {
			return 1
		}
	}
	return -1
}

// link makes the unlinked node x follow node at.
func (l *seqList) link(x, at int32) {
	next := l.n[at].next
	l.n[x].prev, l.n[x].next = at, next
	l.n[at].next = x
	l.n[next].prev = x
}

// newNode adds an unlinked node holding r.
func (l *seqList) newNode(r seqRun) int32 {
	l.n = append(l.n, lnode{r: r, prev: -1, next: -1})
	return int32(len(l.n) - 1)
}

// idLess orders item ids by actor name, then sequence number: the tie-break between
// concurrent runs with the same origins, the same on every replica.
func (s *Sequence) idLess(a, b itemID) bool {
	if a.c != b.c {
		return strings.Compare(s.actors[a.c].name, s.actors[b.c].name) < 0
	}
	return a.s < b.s
}
