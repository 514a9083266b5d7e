package crdt

import "encoding/binary"

// delLog is the deletion history: delRecs in the order they were recorded. Only the
// last record is kept whole, so the mutation being applied can extend it; the others
// are varint deltas from their predecessor (about 5 bytes instead of 24). It is only
// ever read from the start.
type delLog struct {
	buf  []byte
	n    int
	prev delRec // the record before last, the base of the next delta
	last delRec
}

// Len returns the number of records.
func (l *delLog) Len() int { return l.n }

// Last returns the last record, which may be changed in place; l must not be empty.
func (l *delLog) Last() *delRec { return &l.last }

// Append adds r.
func (l *delLog) Append(r delRec) {
	if l.n > 0 {
		if cap(l.buf)-len(l.buf) < 5*binary.MaxVarintLen64 {
			nb := make([]byte, len(l.buf), 2*cap(l.buf)+64)
			copy(nb, l.buf)
			l.buf = nb
		}
		p := l.prev
		q := l.last
		l.buf = binary.AppendUvarint(l.buf, uint64(q.dc))
		l.buf = binary.AppendVarint(l.buf, int64(q.mid-p.mid))
		l.buf = binary.AppendUvarint(l.buf, uint64(q.tc))
		l.buf = binary.AppendVarint(l.buf, int64(q.ts)-int64(p.ts))
		l.buf = binary.AppendUvarint(l.buf, uint64(q.n))
		l.prev = q
	}
	l.last = r
	l.n++
}

// Each calls f with every record in order; f must not keep the pointer.
func (l *delLog) Each(f func(d *delRec)) {
	var p delRec
	b := l.buf
	for i := 0; i < l.n-1; i++ {
		dc, n1 := binary.Uvarint(b)
		dm, n2 := binary.Varint(b[n1:])
		tc, n3 := binary.Uvarint(b[n1+n2:])
		dt, n4 := binary.Varint(b[n1+n2+n3:])
		k, n5 := binary.Uvarint(b[n1+n2+n3+n4:])
		b = b[n1+n2+n3+n4+n5:]
		p = delRec{dc: uint32(dc), mid: p.mid + uint64(dm), tc: uint32(tc), ts: uint32(int64(p.ts) + dt), n: uint32(k)}
		f(&p)
	}
	if l.n > 0 {
		f(&l.last)
	}
}

// Clone returns an independent copy of l.
func (l *delLog) Clone() delLog {
	c := *l
	c.buf = append([]byte(nil), l.buf...)
	return c
}
