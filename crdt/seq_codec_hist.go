package crdt

import (
	"encoding/binary"
	"math"
)

// The history is most of a sequence's encoding: one record per inserting mutation and
// one per deleted range. Each record starts with a header byte whose bits say which
// fields follow the usual pattern (typing: next item, next mid, same clock step) and
// are therefore omitted; the others follow as varints. Every record takes at least one
// byte, so a record count can be checked against the input length.

// Insertion record header bits.
const (
	hSeq1    = 1 << 0 // seq = previous seq + 1
	hMid1    = 1 << 1 // mid = previous mid + 1
	hMid0    = 1 << 2 // mid = previous mid
	hWallRep = 1 << 3 // wall step = previous wall step
	hCounter = 1 << 4 // counter = previous counter
	hCact    = 1 << 5 // clock actor = previous clock actor
	hAll     = 1<<6 - 1
)

// appendInsRecs writes an actor's insertion history.
func appendInsRecs(b []byte, recs *insLog, rank []uint32) []byte {
	b = binary.AppendUvarint(b, uint64(recs.Len()))
	var p insRec
	var step int64
	first := true
	recs.Each(func(r insRec) {
		c := uint32(rank[r.cact])
		var h byte
		if !first {
			h = bit(r.seq == p.seq+1, hSeq1) | bit(r.mid == p.mid+1, hMid1) | bit(r.mid == p.mid, hMid0) |
				bit(r.wall-p.wall == step, hWallRep) | bit(r.counter == p.counter, hCounter) | bit(c == p.cact, hCact)
			if h&hMid1 != 0 {
				h &^= hMid0
			}
		}
		b = append(b, h)
		if h&hSeq1 == 0 {
			b = binary.AppendUvarint(b, uint64(r.seq-p.seq))
		}
		if h&(hMid1|hMid0) == 0 {
			b = binary.AppendUvarint(b, r.mid-p.mid)
		}
		if h&hWallRep == 0 {
			b = binary.AppendVarint(b, r.wall-p.wall)
		}
		if h&hCounter == 0 {
			b = binary.AppendUvarint(b, uint64(r.counter))
		}
		if h&hCact == 0 {
			b = binary.AppendUvarint(b, uint64(c))
		}
		step = r.wall - p.wall
		p, p.cact, first = r, c, false
	})
	return b
}

func bit(ok bool, b byte) byte {
	if ok {
		return b
	}
	return 0
}

// history reads every actor's insertion history.
func (d *seqDecoder) history() {
	for i := range d.s.actors {
		a := &d.s.actors[i]
		n := d.r.count(1)
		var p insRec
		var step int64
		for j := 0; j < n && d.r.err == nil; j++ {
			r, ok := d.insRec(p, step, j == 0, a.next)
			if !ok {
				d.r.fail("bad insertion record")
				return
			}
			step = r.wall - p.wall
			a.ins.Append(r)
			p = r
		}
	}
}

// insRec reads one insertion record after p (the previous one; step its wall step).
func (d *seqDecoder) insRec(p insRec, step int64, first bool, next uint32) (insRec, bool) {
	h := d.r.byte()
	if h&^hAll != 0 || first && h != 0 || h&hMid1 != 0 && h&hMid0 != 0 {
		return insRec{}, false
	}
	ds, dm, dw := uint64(1), uint64(0), step
	c, a := uint64(p.counter), uint64(p.cact)
	if h&hMid1 != 0 {
		dm = 1
	}
	if h&hSeq1 == 0 {
		ds = d.r.uvarint()
	}
	if h&(hMid1|hMid0) == 0 {
		dm = d.r.uvarint()
	}
	if h&hWallRep == 0 {
		dw = d.r.varint()
	}
	if h&hCounter == 0 {
		c = d.r.uvarint()
	}
	if h&hCact == 0 {
		a = d.r.uvarint()
	}
	seq := uint64(p.seq) + ds
	if first {
		seq = ds
	}
	switch {
	case d.r.err != nil, !first && ds == 0, ds >= uint64(next), seq >= uint64(next),
		dm > math.MaxUint64-p.mid, c > MaxCounter, a >= uint64(len(d.names)),
		dw > MaxWall || dw < -MaxWall || p.wall+dw < 0 || p.wall+dw > MaxWall:
		return insRec{}, false
	}
	return insRec{seq: uint32(seq), mid: p.mid + dm, wall: p.wall + dw, counter: uint32(c), cact: uint32(a)}, true
}

// Deletion record header bits (records sorted by deleter, mid, target, ts).
const (
	dSameDC = 1 << 0 // same deleting actor as the previous record
	dMid1   = 1 << 1 // mid = previous mid + 1 (same deleter)
	dSameTC = 1 << 2 // same target actor
	dTsBack = 1 << 3 // ts = previous ts - 1 (backspacing)
	dTsNext = 1 << 4 // ts = previous ts + previous n (deleting forward)
	dN1     = 1 << 5 // n = 1
	dAll    = 1<<6 - 1
)

// appendDelRecs writes the deletion history, already sorted and ranked.
func appendDelRecs(b []byte, ds []delRec) []byte {
	b = binary.AppendUvarint(b, uint64(len(ds)))
	var p delRec
	for i, r := range ds {
		var h byte
		if i > 0 {
			h = bit(r.dc == p.dc, dSameDC) | bit(r.dc == p.dc && r.mid == p.mid+1, dMid1) |
				bit(r.tc == p.tc, dSameTC) | bit(r.ts+1 == p.ts, dTsBack) | bit(r.ts == p.ts+p.n && r.ts+1 != p.ts, dTsNext)
		}
		h |= bit(r.n == 1, dN1)
		b = append(b, h)
		if h&dSameDC == 0 {
			b = binary.AppendUvarint(b, uint64(r.dc))
		}
		switch {
		case h&dMid1 != 0:
		case h&dSameDC != 0:
			b = binary.AppendUvarint(b, r.mid-p.mid)
		default:
			b = binary.AppendUvarint(b, r.mid)
		}
		if h&dSameTC == 0 {
			b = binary.AppendUvarint(b, uint64(r.tc))
		}
		if h&(dTsBack|dTsNext) == 0 {
			b = binary.AppendUvarint(b, uint64(r.ts))
		}
		if h&dN1 == 0 {
			b = binary.AppendUvarint(b, uint64(r.n))
		}
		p = r
	}
	return b
}

// dels reads the deletion history.
func (d *seqDecoder) dels() {
	n := d.r.count(1)
	var p delRec
	for i := 0; i < n && d.r.err == nil; i++ {
		r, ok := d.delRec(p, i == 0)
		if !ok {
			d.r.fail("bad deletion record")
			return
		}
		d.s.dels.Append(r)
		p = r
	}
}

// delRec reads one deletion record after p.
func (d *seqDecoder) delRec(p delRec, first bool) (delRec, bool) {
	h := d.r.byte()
	if h&^dAll != 0 || first && h&^dN1 != 0 || h&dMid1 != 0 && h&dSameDC == 0 || h&dTsBack != 0 && h&dTsNext != 0 {
		return delRec{}, false
	}
	dc, tc, ts, cnt := uint64(p.dc), uint64(p.tc), uint64(p.ts)+uint64(p.n), uint64(1)
	if h&dSameDC == 0 {
		dc = d.r.uvarint()
	}
	mid := p.mid + 1
	switch {
	case h&dMid1 != 0:
	case h&dSameDC != 0:
		dm := d.r.uvarint()
		if dm > math.MaxUint64-p.mid {
			return delRec{}, false
		}
		mid = p.mid + dm
	default:
		mid = d.r.uvarint()
	}
	if h&dSameTC == 0 {
		tc = d.r.uvarint()
	}
	switch {
	case h&dTsBack != 0:
		ts = uint64(p.ts) - 1 // p.ts == 0 wraps and fails the range check below
	case h&dTsNext == 0:
		ts = d.r.uvarint()
	}
	if h&dN1 == 0 {
		cnt = d.r.uvarint()
	}
	if d.r.err != nil || dc >= uint64(len(d.names)) || tc >= uint64(len(d.names)) || cnt == 0 ||
		ts > math.MaxUint32 || cnt > math.MaxUint32 || ts+cnt > uint64(d.s.actors[tc].next) {
		return delRec{}, false
	}
	return delRec{mid: mid, dc: uint32(dc), tc: uint32(tc), ts: uint32(ts), n: uint32(cnt)}, true
}
