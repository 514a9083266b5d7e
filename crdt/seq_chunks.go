package crdt

import "slices"

// seqRun is a run of consecutive items of one actor: ids c:[seq, seq+n), content
// arena[aoff : aoff+n] of that actor. The first item's origin left is ol, every other
// item's origin left is the item before it; all share origin right or. A run is
// entirely visible or entirely deleted.
type seqRun struct {
	c, seq, n, aoff uint32
	ol, or          itemID
	flags           uint8
}

const (
	// runDeleted marks deleted items (tombstones).
	runDeleted uint8 = 1 << iota
	// runGap marks deleted items whose content and history compaction forgot; they
	// keep their ids and origins so that concurrent items can still be ordered.
	runGap
)

// chunkCap is the capacity of a chunk of runs: small enough that inserting into a
// chunk is a short memmove, large enough that the chunk list stays short.
const chunkCap = 64

// seqChunk is a slice of runs with their visible item count.
type seqChunk struct {
	runs []seqRun
	vis  int
}

// seqCursor caches the last position found: most edits land next to the previous one.
type seqCursor struct {
	ok         bool
	ci, ri     int
	cpos, rpos int // visible items before chunk ci and before run ri
}

func (r *seqRun) visLen() int {
	if r.flags&runDeleted != 0 {
		return 0
	}
	return int(r.n)
}

func (r *seqRun) firstID() itemID { return itemID{r.c, r.seq} }
func (r *seqRun) lastID() itemID  { return itemID{r.c, r.seq + r.n - 1} }

// has reports whether id is one of r's items.
func (r *seqRun) has(id itemID) bool { return id.c == r.c && id.s >= r.seq && id.s-r.seq < r.n }

// split returns r's items [0, k) and [k, n).
func (r seqRun) split(k uint32) (seqRun, seqRun) {
	a, b := r, r
	a.n = k
	b.seq += k
	b.n -= k
	b.aoff += k
	b.ol = itemID{r.c, r.seq + k - 1}
	return a, b
}

// sameChain reports whether b's items continue a's: same actor, next ids, each the
// origin left of the next, same origin right and flags.
func sameChain(a, b *seqRun) bool {
	return b.c == a.c && b.seq == a.seq+a.n && b.ol == (itemID{a.c, a.seq + a.n - 1}) &&
		b.or == a.or && a.flags == b.flags
}

// continues reports whether a and b can be one run (sameChain and adjacent content).
func continues(a, b *seqRun) bool {
	return sameChain(a, b) && (a.flags&runGap != 0 || b.aoff == a.aoff+a.n)
}

// locate finds visible item q (0 <= q < s.vis): its chunk, run and offset in the run.
// It starts from the cached cursor and leaves the cursor on the run found.
func (s *Sequence) locate(q int) (ci, ri, off int) {
	c := &s.cur
	if !c.ok {
		*c = seqCursor{ok: true}
	}
	ci, cpos := c.ci, c.cpos
	for q < cpos {
		ci--
		cpos -= s.chunks[ci].vis
	}
	for q >= cpos+s.chunks[ci].vis {
		cpos += s.chunks[ci].vis
		ci++
	}
	runs := s.chunks[ci].runs
	ri, rpos := 0, cpos
	if ci == c.ci {
		ri, rpos = c.ri, c.rpos
	} else if q-cpos > s.chunks[ci].vis/2 {
		ri = len(runs) - 1
		rpos = cpos + s.chunks[ci].vis - runs[ri].visLen()
	}
	for q < rpos {
		ri--
		rpos -= runs[ri].visLen()
	}
	for {
		v := runs[ri].visLen()
		if q < rpos+v {
			break
		}
		rpos += v
		ri++
	}
	*c = seqCursor{ok: true, ci: ci, ri: ri, cpos: cpos, rpos: rpos}
	return ci, ri, q - rpos
}

// idAfter returns the id of the item right after run ri of chunk ci, or noID.
func (s *Sequence) idAfter(ci, ri int) itemID {
	if ri+1 < len(s.chunks[ci].runs) {
		return s.chunks[ci].runs[ri+1].firstID()
	}
	for ci++; ci < len(s.chunks); ci++ {
		if len(s.chunks[ci].runs) > 0 {
			return s.chunks[ci].runs[0].firstID()
		}
	}
	return noID
}

// setRun replaces run ri of chunk ci, keeping the visible counts right.
func (s *Sequence) setRun(ci, ri int, r seqRun) {
	ch := &s.chunks[ci]
	d := r.visLen() - ch.runs[ri].visLen()
	ch.vis += d
	s.vis += d
	ch.runs[ri] = r
}

// insertRuns inserts rs before run ri of chunk ci (cpos visible items before the
// chunk), splitting the chunk when full. It returns where rs[0] went.
func (s *Sequence) insertRuns(ci, ri, cpos int, rs []seqRun) (int, int, int) {
	if len(s.chunks[ci].runs)+len(rs) > chunkCap {
		s.splitChunk(ci)
		if first := &s.chunks[ci]; ri > len(first.runs) {
			ri -= len(first.runs)
			cpos += first.vis
			ci++
		}
	}
	ch := &s.chunks[ci]
	n := len(ch.runs)
	ch.runs = ch.runs[:n+len(rs)]
	copy(ch.runs[ri+len(rs):], ch.runs[ri:n])
	copy(ch.runs[ri:], rs)
	for i := range rs {
		v := rs[i].visLen()
		ch.vis += v
		s.vis += v
	}
	return ci, ri, cpos
}

// removeRun deletes run ri of chunk ci (callers keep its items elsewhere).
func (s *Sequence) removeRun(ci, ri int) {
	ch := &s.chunks[ci]
	v := ch.runs[ri].visLen()
	ch.vis -= v
	s.vis -= v
	ch.runs = slices.Delete(ch.runs, ri, ri+1)
}

// splitChunk moves the second half of chunk ci into a new chunk after it.
func (s *Sequence) splitChunk(ci int) {
	old := &s.chunks[ci]
	half := len(old.runs) / 2
	runs := make([]seqRun, len(old.runs)-half, chunkCap)
	copy(runs, old.runs[half:])
	old.runs = old.runs[:half]
	nc := seqChunk{runs: runs}
	for i := range runs {
		nc.vis += runs[i].visLen()
	}
	old.vis -= nc.vis
	s.chunks = slices.Insert(s.chunks, ci+1, nc)
	s.cur.ok = false
}

// firstID returns the id of the first item of the document, or noID.
func (s *Sequence) firstID() itemID {
	for ci := range s.chunks {
		if len(s.chunks[ci].runs) > 0 {
			return s.chunks[ci].runs[0].firstID()
		}
	}
	return noID
}

// ensureChunk makes sure there is a chunk to insert into.
func (s *Sequence) ensureChunk() {
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, seqChunk{runs: make([]seqRun, 0, chunkCap)})
		s.cur.ok = false
	}
}
