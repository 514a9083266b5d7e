package crdt

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// seqCodecVersion is the first byte of a sequence encoding.
const seqCodecVersion = 1

// Run header bits of the encoding.
const (
	encDeleted  = 1 << 0
	encGap      = 1 << 1
	encOLChain  = 1 << 2 // origin left is the last item of the previous run
	encORSame   = 1 << 3 // origin right is the previous run's
	encSameAct  = 1 << 4 // same actor as the previous run
	encNextSeq  = 1 << 5 // seq follows the previous run of the same actor
	encKnownBit = 1<<6 - 1
)

// AppendBinary appends a compact, versioned, canonical encoding of s to b: equal
// states give equal bytes. Layout: version, kind, the actor table (sorted names,
// counters), the insertion history per actor (delta-coded), the clock bounds, the
// deletion history, the runs (header byte, varints, origins elided when implied) and
// the content of the non-gap runs (UTF-8 text or length-prefixed JSON values).
func (s *Sequence) AppendBinary(b []byte) []byte {
	order, rank := s.actorOrder()
	b = append(b, seqCodecVersion, byte(s.kind))
	b = binary.AppendUvarint(b, uint64(len(order)))
	for _, i := range order {
		a := &s.actors[i]
		b = appendString(b, a.name)
		b = binary.AppendUvarint(b, uint64(a.next))
		b = binary.AppendUvarint(b, a.seen)
	}
	for _, i := range order {
		b = appendInsRecs(b, &s.actors[i].ins, rank)
	}
	if s.items {
		b = append(b, 1)
		b = appendHLC(b, s.maxClk, uint64(rank[s.byName[s.maxClk.Actor]]))
		b = appendHLC(b, s.minClk, uint64(rank[s.byName[s.minClk.Actor]]))
	} else {
		b = append(b, 0)
	}
	b = s.appendDels(b, rank)
	runs := s.canonicalRuns()
	b = binary.AppendUvarint(b, uint64(len(runs)))
	var prev *namedRun
	for i := range runs {
		b = appendRun(b, &runs[i], prev, s.byName, rank)
		prev = &runs[i]
	}
	return s.appendContent(b, runs)
}

// actorOrder returns the actor indices sorted by name, and each index's rank.
func (s *Sequence) actorOrder() ([]uint32, []uint32) {
	order := make([]uint32, len(s.actors))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int {
		return strings.Compare(s.actors[x].name, s.actors[y].name)
	})
	rank := make([]uint32, len(order))
	for r, i := range order {
		rank[i] = uint32(r)
	}
	return order, rank
}

// appendDels writes the deletion history sorted (canonical order).
func (s *Sequence) appendDels(b []byte, rank []uint32) []byte {
	ds := make([]delRec, 0, s.dels.Len())
	s.dels.Each(func(d *delRec) { ds = append(ds, *d) })
	for i := range ds {
		ds[i].dc, ds[i].tc = rank[ds[i].dc], rank[ds[i].tc]
	}
	slices.SortFunc(ds, func(x, y delRec) int {
		if c := cmpInt(x.dc, y.dc); c != 0 {
			return c
		}
		if c := cmpInt(x.mid, y.mid); c != 0 {
			return c
		}
		if c := cmpInt(x.tc, y.tc); c != 0 {
			return c
		}
		return cmpInt(x.ts, y.ts)
	})
	return appendDelRecs(b, ds)
}

// appendRun writes one run relative to the previous one.
func appendRun(b []byte, r, prev *namedRun, byName map[string]uint32, rank []uint32) []byte {
	h := r.flags & (encDeleted | encGap)
	if prev != nil {
		if r.olc == prev.c && r.ols == prev.seq+prev.n-1 {
			h |= encOLChain
		}
		if r.orc == prev.orc && r.ors == prev.ors {
			h |= encORSame
		}
		if r.c == prev.c {
			h |= encSameAct
			if r.seq == prev.seq+prev.n {
				h |= encNextSeq
			}
		}
	}
	b = append(b, h)
	if h&encSameAct == 0 {
		b = binary.AppendUvarint(b, uint64(rank[byName[r.c]]))
	}
	if h&encNextSeq == 0 {
		b = binary.AppendUvarint(b, uint64(r.seq))
	}
	b = binary.AppendUvarint(b, uint64(r.n))
	if h&encOLChain == 0 {
		b = appendOrigin(b, r.olc, r.ols, byName, rank)
	}
	if h&encORSame == 0 {
		b = appendOrigin(b, r.orc, r.ors, byName, rank)
	}
	return b
}

func appendOrigin(b []byte, c string, seq uint32, byName map[string]uint32, rank []uint32) []byte {
	if c == "" {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(rank[byName[c]])+1)
	return binary.AppendUvarint(b, uint64(seq))
}

// appendContent writes the content of the non-gap runs in document order.
func (s *Sequence) appendContent(b []byte, runs []namedRun) []byte {
	if s.kind == SeqText {
		n := 0
		for i := range runs {
			n += len(runs[i].text)
		}
		buf := make([]byte, 0, n)
		for i := range runs {
			for _, c := range runs[i].text {
				buf = utf8.AppendRune(buf, c)
			}
		}
		return appendBytes(b, buf)
	}
	for i := range runs {
		for _, v := range runs[i].vals {
			b = appendBytes(b, v)
		}
	}
	return b
}

// DecodeSequence decodes an encoding made by AppendBinary. It never panics, allocates
// in proportion to len(b) at most, and checks every invariant the other methods rely on.
func DecodeSequence(b []byte) (*Sequence, error) {
	d := seqDecoder{r: reader{b: b}}
	s, err := d.decode()
	if err != nil {
		return nil, fmt.Errorf("decode sequence: %w", err)
	}
	return s, nil
}
