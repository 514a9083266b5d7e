package crdt

import (
	"testing"
)

// seqFuzzSeeds returns encodings of a few varied sequences.
func seqFuzzSeeds(t testing.TB) [][]byte {
	m := newSeqSim(t, 7, SeqText, 2)
	m.run(40)
	c := m.reps[0].s.Clone()
	c.Compact(Horizon{Seen: m.reps[0].vv})
	l := newSeqSim(t, 8, SeqList, 2)
	l.run(30)
	return [][]byte{
		NewSequence(SeqText).AppendBinary(nil),
		m.reps[0].s.AppendBinary(nil),
		m.reps[1].s.AppendBinary(nil),
		c.AppendBinary(nil),
		l.reps[0].s.AppendBinary(nil),
	}
}

// FuzzDecodeSequence checks that arbitrary bytes never make DecodeSequence panic, and
// that whatever it accepts round-trips and survives every operation.
func FuzzDecodeSequence(f *testing.F) {
	for _, seed := range seqFuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte{1, 1, 1, 1, 'a', 5, 0, 0, 0, 0, 1, 0, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSequence(b)
		if err != nil {
			return
		}
		enc := s.AppendBinary(nil)
		d, err := DecodeSequence(enc)
		if err != nil {
			t.Fatalf("re-decoding an encoding: %v", err)
		}
		if !d.Equal(s) || string(d.AppendBinary(nil)) != string(enc) {
			t.Fatal("round trip not stable")
		}
		exercise(t, s)
	})
}

// exercise runs every operation on a decoded (possibly odd) sequence: none may panic.
func exercise(t *testing.T, s *Sequence) {
	_ = s.Text(HLC{})
	_ = s.Values(HLC{Wall: 5, Actor: "x"})
	_ = s.Live(HLC{})
	other := NewSequence(s.Kind())
	op := SpliceOp{At: 0, Text: "zq"}
	if s.Kind() == SeqList {
		op = SpliceOp{At: 0, Values: sqRaw("1")}
	}
	_ = other.Splice(sqStamp("fz", 1), nil, HLC{}, []SpliceOp{op})
	a, b := s.Clone(), other.Clone()
	a.Merge(other)
	b.Merge(s)
	_ = a.Splice(sqStamp("fz2", 1), VersionVector{}, HLC{Wall: 3}, []SpliceOp{op})
	_ = b.Splice(sqStamp("fz3", 1), nil, HLC{}, []SpliceOp{{At: 0, Delete: 1}})
	a.Compact(Horizon{Seen: VersionVector{"fz": 1}})
	_ = a.AppendBinary(nil)
	_ = b.Text(HLC{})
}

// FuzzSequenceMerge drives a seeded random editing session and checks convergence.
func FuzzSequenceMerge(f *testing.F) {
	for seed := int64(0); seed < 4; seed++ {
		f.Add(seed, uint8(40))
	}
	f.Fuzz(func(t *testing.T, seed int64, steps uint8) {
		kind := SeqText
		if seed%3 == 0 {
			kind = SeqList
		}
		m := newSeqSim(t, seed, kind, 3)
		m.run(int(steps))
		x, y := m.merged(0, 1, 2), m.merged(2, 0, 1)
		if !sqSame(x, y) {
			t.Fatalf("merge order matters: %q vs %q", m.content(x), m.content(y))
		}
	})
}
