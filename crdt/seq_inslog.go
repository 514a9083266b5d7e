package crdt

import "encoding/binary"

// insBlock is how many records share one checkpoint in an insLog.
const insBlock = 16

// insLog is an actor's insertion history: one insRec per inserting mutation, sorted by
// seq. It is append-only and compact: every insBlock-th record is kept whole in a
// checkpoint, the others as varint deltas from their predecessor (about 6 bytes instead
// of 32), so the history of a long editing session stays small and cheap to collect.
// Random access decodes at most insBlock-1 records.
type insLog struct {
	buf  []byte
	ck   []insCheckpoint
	n    int
	last insRec
}

// insCheckpoint is record k*insBlock, whole, and where the deltas after it start.
type insCheckpoint struct {
	rec insRec
	off uint32
}

// Len returns the number of records.
func (l *insLog) Len() int { return l.n }

// Append adds r, which must sort after every record already there.
func (l *insLog) Append(r insRec) {
	if l.n%insBlock == 0 {
		l.ck = append(l.ck, insCheckpoint{rec: r, off: uint32(len(l.buf))})
	} else {
		if cap(l.buf)-len(l.buf) < 4*binary.MaxVarintLen64 {
			nb := make([]byte, len(l.buf), 2*cap(l.buf)+64)
			copy(nb, l.buf)
			l.buf = nb
		}
		p := l.last
		l.buf = binary.AppendUvarint(l.buf, uint64(r.seq-p.seq))
		l.buf = binary.AppendVarint(l.buf, int64(r.mid-p.mid))
		l.buf = binary.AppendVarint(l.buf, r.wall-p.wall)
		l.buf = binary.AppendUvarint(l.buf, uint64(r.counter))
		l.buf = binary.AppendUvarint(l.buf, uint64(r.cact))
	}
	l.last = r
	l.n++
}

// next decodes the record after p from l.buf at *off.
func (l *insLog) next(p insRec, off *uint32) insRec {
	b := l.buf[*off:]
	ds, n1 := binary.Uvarint(b)
	dm, n2 := binary.Varint(b[n1:])
	dw, n3 := binary.Varint(b[n1+n2:])
	c, n4 := binary.Uvarint(b[n1+n2+n3:])
	a, n5 := binary.Uvarint(b[n1+n2+n3+n4:])
	*off += uint32(n1 + n2 + n3 + n4 + n5)
	return insRec{seq: p.seq + uint32(ds), mid: p.mid + uint64(dm), wall: p.wall + dw,
		counter: uint32(c), cact: uint32(a)}
}

// At returns record i.
func (l *insLog) At(i int) insRec {
	if i == l.n-1 {
		return l.last
	}
	ck := &l.ck[i/insBlock]
	r, off := ck.rec, ck.off
	for j := 0; j < i%insBlock; j++ {
		r = l.next(r, &off)
	}
	return r
}

// Search returns the smallest i for which f(record i) is true, or Len, assuming f
// is false then true along the log.
func (l *insLog) Search(f func(r *insRec) bool) int {
	lo, hi := 0, len(l.ck)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(&l.ck[m].rec) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	// Records (lo-1)*insBlock+1 ... lo*insBlock-1 may still hold the answer.
	k := lo - 1
	r, off := l.ck[k].rec, l.ck[k].off
	i := k * insBlock
	for i+1 < l.n && i+1 < lo*insBlock {
		r = l.next(r, &off)
		i++
		if f(&r) {
			return i
		}
	}
	return min(lo*insBlock, l.n)
}

// Each calls f with every record in order.
func (l *insLog) Each(f func(r insRec)) { l.EachFrom(0, f) }

// EachFrom calls f with records from, from+1, ... in order.
func (l *insLog) EachFrom(from int, f func(r insRec)) {
	for k := from / insBlock; k < len(l.ck); k++ {
		r, off := l.ck[k].rec, l.ck[k].off
		for i := k * insBlock; i < l.n && i < (k+1)*insBlock; i++ {
			if i > k*insBlock {
				r = l.next(r, &off)
			}
			if i >= from {
				f(r)
			}
		}
	}
}

// Clone returns an independent copy of l.
func (l *insLog) Clone() insLog {
	c := *l
	c.buf = append([]byte(nil), l.buf...)
	c.ck = append([]insCheckpoint(nil), l.ck...)
	return c
}
