package crdt

// The fast path: a splice whose indices refer to the current content (base nil or a
// base covering every mutation the sequence holds, and no item hidden by the floor).
// It works on the chunked run list directly and never looks at history.

// fastInsert inserts run nr (ids and content set) so that its first item becomes
// visible item p. Like Yjs, the origin left is the visible item before p and the
// origin right is whatever item follows it, tombstone or not.
func (s *Sequence) fastInsert(p int, nr seqRun) {
	s.ensureChunk()
	if p == 0 {
		nr.ol, nr.or = noID, s.firstID()
		ci, ri, cpos := s.insertRuns(0, 0, 0, []seqRun{nr})
		s.cur = seqCursor{ok: true, ci: ci, ri: ri, cpos: cpos, rpos: 0}
		return
	}
	ci, ri, off := s.locate(p - 1)
	cpos := s.cur.cpos
	r := s.chunks[ci].runs[ri]
	if uint32(off)+1 < r.n {
		a, b := r.split(uint32(off) + 1)
		nr.ol, nr.or = a.lastID(), b.firstID()
		s.setRun(ci, ri, a)
		buf := [2]seqRun{nr, b}
		ci, ri, cpos = s.insertRuns(ci, ri+1, cpos, buf[:])
		s.cur = seqCursor{ok: true, ci: ci, ri: ri, cpos: cpos, rpos: p}
		return
	}
	nr.ol, nr.or = r.lastID(), s.idAfter(ci, ri)
	if continues(&r, &nr) {
		r.n += nr.n
		s.setRun(ci, ri, r)
		return // the cursor still points at r
	}
	buf := [1]seqRun{nr}
	ci, ri, cpos = s.insertRuns(ci, ri+1, cpos, buf[:])
	s.cur = seqCursor{ok: true, ci: ci, ri: ri, cpos: cpos, rpos: p}
}

// fastDelete deletes k visible items from visible index p on behalf of mutation
// (dc, mid), recording which items it deleted.
func (s *Sequence) fastDelete(p, k int, dc uint32, mid uint64) {
	for k > 0 {
		ci, ri, off := s.locate(p)
		r := s.chunks[ci].runs[ri]
		m := min(k, int(r.n)-off)
		s.recordDelete(dc, mid, r.c, r.seq+uint32(off), uint32(m))
		s.markDeleted(ci, ri, uint32(off), uint32(m), p)
		k -= m
	}
}

// recordDelete appends to the deletion history, extending the last record when the
// same mutation deletes the next items of the same actor.
func (s *Sequence) recordDelete(dc uint32, mid uint64, tc, ts, n uint32) {
	if s.dels.Len() > 0 {
		d := s.dels.Last()
		if d.dc == dc && d.mid == mid && d.tc == tc && d.ts+d.n == ts {
			d.n += n
			return
		}
	}
	s.dels.Append(delRec{mid: mid, dc: dc, tc: tc, ts: ts, n: n})
}

// markDeleted deletes items [off, off+m) of visible run ri of chunk ci, which start at
// visible index p, merging the tombstone into a neighbouring one where it continues.
func (s *Sequence) markDeleted(ci, ri int, off, m uint32, p int) {
	cpos := s.cur.cpos
	runs := s.chunks[ci].runs
	r := runs[ri]
	switch {
	case off == 0 && m == r.n:
		r.flags |= runDeleted
		s.setRun(ci, ri, r)
		ri = s.coalesceAround(ci, ri)
	case off == 0:
		ci, ri, cpos = s.deletePrefix(ci, ri, cpos, m)
	case off+m == r.n:
		keep, d := r.split(off)
		d.flags |= runDeleted
		if ri+1 < len(runs) && continues(&d, &runs[ri+1]) {
			next := runs[ri+1]
			next.seq, next.n, next.aoff, next.ol = d.seq, next.n+m, d.aoff, d.ol
			s.setRun(ci, ri, keep)
			s.setRun(ci, ri+1, next)
			ri++
			break
		}
		s.setRun(ci, ri, keep)
		buf := [1]seqRun{d}
		ci, ri, cpos = s.insertRuns(ci, ri+1, cpos, buf[:])
	default:
		keep, d := r.split(off)
		d, rest := d.split(m)
		d.flags |= runDeleted
		s.setRun(ci, ri, keep)
		buf := [2]seqRun{d, rest}
		ci, ri, cpos = s.insertRuns(ci, ri+1, cpos, buf[:])
	}
	s.cur = seqCursor{ok: true, ci: ci, ri: ri, cpos: cpos, rpos: p}
}

// deletePrefix deletes the first m items of run ri of chunk ci (cpos visible items
// before the chunk) and returns where the tombstone is.
func (s *Sequence) deletePrefix(ci, ri, cpos int, m uint32) (int, int, int) {
	runs := s.chunks[ci].runs
	d, rest := runs[ri].split(m)
	d.flags |= runDeleted
	if ri > 0 && continues(&runs[ri-1], &d) {
		prev := runs[ri-1]
		prev.n += m
		s.setRun(ci, ri-1, prev)
		s.setRun(ci, ri, rest)
		return ci, ri - 1, cpos
	}
	s.setRun(ci, ri, d)
	buf := [1]seqRun{rest}
	ci, ri, cpos = s.insertRuns(ci, ri+1, cpos, buf[:])
	return ci, ri - 1, cpos // a chunk split never separates d from rest: see insertRuns
}

// coalesceAround merges run ri of chunk ci with its neighbours in the chunk where
// they continue each other, and returns the index of the merged run.
func (s *Sequence) coalesceAround(ci, ri int) int {
	runs := s.chunks[ci].runs
	if ri+1 < len(runs) && continues(&runs[ri], &runs[ri+1]) {
		r := runs[ri]
		r.n += runs[ri+1].n
		s.removeRun(ci, ri+1)
		s.setRun(ci, ri, r)
		runs = s.chunks[ci].runs
	}
	if ri > 0 && continues(&runs[ri-1], &runs[ri]) {
		r := runs[ri-1]
		r.n += runs[ri].n
		s.removeRun(ci, ri)
		s.setRun(ci, ri-1, r)
		ri--
	}
	return ri
}
