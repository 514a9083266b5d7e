package crdt

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"testing"
)

// seqSimReplica is one replica of a simulated editing session.
type seqSimReplica struct {
	name string
	s    *Sequence
	vv   VersionVector
	mid  uint64
}

// seqSimMutation is one logged splice.
type seqSimMutation struct {
	st   Stamp
	base VersionVector
	ops  []SpliceOp
}

// seqSnapshot is an old state of a replica, for splices against an old base.
type seqSnapshot struct {
	s  *Sequence
	vv VersionVector
}

// seqSim drives random concurrent editing of several replicas with a seeded source.
type seqSim struct {
	t     testing.TB
	rng   *rand.Rand
	kind  SeqKind
	reps  []*seqSimReplica
	log   []seqSimMutation
	snaps []seqSnapshot
	clock int64
	fresh int
}

func newSeqSim(t testing.TB, seed int64, kind SeqKind, n int) *seqSim {
	m := &seqSim{t: t, rng: rand.New(rand.NewSource(seed)), kind: kind}
	for i := 0; i < n; i++ {
		m.reps = append(m.reps, &seqSimReplica{name: "r" + strconv.Itoa(i), s: NewSequence(kind), vv: VersionVector{}})
	}
	return m
}

func (m *seqSim) run(steps int) {
	for i := 0; i < steps; i++ {
		r := m.reps[m.rng.Intn(len(m.reps))]
		switch x := m.rng.Intn(20); {
		case x < 3:
			o := m.reps[m.rng.Intn(len(m.reps))]
			r.s.Merge(o.s)
			r.vv.Join(o.vv)
		case x < 5 && len(m.snaps) > 0:
			m.spliceOld(r, m.snaps[m.rng.Intn(len(m.snaps))])
		case x < 6:
			m.snaps = append(m.snaps, seqSnapshot{r.s.Clone(), r.vv.Clone()})
		default:
			r.mid++
			m.splice(r.s, r.vv, m.stamp(r.name, r.mid), m.randomOps(m.length(r.s)))
			r.vv.Observe(r.name, r.mid)
		}
	}
}

func (m *seqSim) stamp(client string, mid uint64) Stamp {
	m.clock++
	return Stamp{Client: client, Mid: mid, Clock: HLC{Wall: m.clock, Actor: client}}
}

func (m *seqSim) splice(s *Sequence, base VersionVector, st Stamp, ops []SpliceOp) {
	m.t.Helper()
	if err := s.Splice(st, base.Clone(), HLC{}, ops); err != nil {
		m.t.Fatalf("splice %+v base %v ops %+v: %v", st, base, ops, err)
	}
	m.log = append(m.log, seqSimMutation{st: st, base: base.Clone(), ops: ops})
}

// spliceOld makes a fresh client edit an old seqSnapshot's content and applies the edit to
// r, rebased. Oracle: the same edit applied to the seqSnapshot, merged into r.
func (m *seqSim) spliceOld(r *seqSimReplica, sn seqSnapshot) {
	m.t.Helper()
	if !r.vv.Covers(sn.vv) {
		return
	}
	m.fresh++
	st := m.stamp("old"+strconv.Itoa(m.fresh), 1)
	ops := m.randomOps(m.length(sn.s))
	want := r.s.Clone()
	side := sn.s.Clone()
	if err := side.Splice(st, nil, HLC{}, ops); err != nil {
		m.t.Fatal(err)
	}
	want.Merge(side)
	m.splice(r.s, sn.vv, st, ops)
	r.vv.Observe(st.Client, 1)
	if string(r.s.AppendBinary(nil)) != string(want.AppendBinary(nil)) {
		m.t.Fatalf("rebased splice %+v differs from splice-then-merge:\n got %q\nwant %q",
			ops, m.content(r.s), m.content(want))
	}
}

func (m *seqSim) length(s *Sequence) int {
	if m.kind == SeqText {
		return len([]rune(s.Text(HLC{})))
	}
	return len(s.Values(HLC{}))
}

func (m *seqSim) content(s *Sequence) string {
	if m.kind == SeqText {
		return s.Text(HLC{})
	}
	b, _ := json.Marshal(s.Values(HLC{}))
	return string(b)
}

var seqSimAlphabet = []rune("abcxyzé😀 ")

func (m *seqSim) randomOps(n int) []SpliceOp {
	ops := make([]SpliceOp, 1+m.rng.Intn(3))
	for i := range ops {
		op := SpliceOp{At: m.rng.Intn(n + 1)}
		if n > op.At && m.rng.Intn(3) == 0 {
			op.Delete = 1 + m.rng.Intn(min(4, n-op.At))
		}
		k := m.rng.Intn(5)
		for j := 0; j < k; j++ {
			if m.kind == SeqText {
				op.Text += string(seqSimAlphabet[m.rng.Intn(len(seqSimAlphabet))])
			} else {
				op.Values = append(op.Values, json.RawMessage(strconv.Itoa(m.rng.Intn(100))))
			}
		}
		n += k - op.Delete
		ops[i] = op
	}
	return ops
}

// merged returns the merge of the replicas in the given order.
func (m *seqSim) merged(order ...int) *Sequence {
	out := NewSequence(m.kind)
	for _, i := range order {
		out.Merge(m.reps[i].s)
	}
	return out
}

func sqSame(a, b *Sequence) bool {
	return a.Equal(b) && string(a.AppendBinary(nil)) == string(b.AppendBinary(nil))
}

func TestMergeProperties(t *testing.T) {
	for seed := int64(1); seed <= 40; seed++ {
		kind := SeqText
		if seed%4 == 0 {
			kind = SeqList
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			m := newSeqSim(t, seed, kind, 3)
			m.run(150)
			a, b, c := m.reps[0].s, m.reps[1].s, m.reps[2].s
			ab, ba := a.Clone(), b.Clone()
			ab.Merge(b)
			ba.Merge(a)
			if !sqSame(ab, ba) {
				t.Fatalf("not commutative: %q vs %q", m.content(ab), m.content(ba))
			}
			abc1 := ab.Clone()
			abc1.Merge(c)
			bc := b.Clone()
			bc.Merge(c)
			abc2 := a.Clone()
			abc2.Merge(bc)
			if !sqSame(abc1, abc2) {
				t.Fatalf("not associative: %q vs %q", m.content(abc1), m.content(abc2))
			}
			again := ab.Clone()
			again.Merge(b)
			again.Merge(ab.Clone())
			if !sqSame(again, ab) {
				t.Fatal("not idempotent")
			}
			// Applying every splice, in a causal order, on one replica gives the
			// state the replicas reach by merging.
			one := NewSequence(kind)
			for _, mu := range m.log {
				if err := one.Splice(mu.st, mu.base, HLC{}, mu.ops); err != nil {
					t.Fatal(err)
				}
			}
			if all := m.merged(2, 0, 1); !sqSame(one, all) {
				t.Fatalf("apply-all %q differs from merge-all %q", m.content(one), m.content(all))
			}
			sqRoundTrip(t, abc1)
		})
	}
}

func TestCompactThenKeepEditing(t *testing.T) {
	for seed := int64(100); seed < 115; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			m := newSeqSim(t, seed, SeqText, 3)
			m.run(120)
			h := Horizon{Clock: HLC{Wall: m.clock}, Seen: VersionVector{}}
			for c := range m.reps[0].vv {
				lo := m.reps[0].vv[c]
				for _, r := range m.reps[1:] {
					lo = min(lo, r.vv[c])
				}
				h.Seen[c] = lo
			}
			for _, r := range m.reps[:2] { // replica 2 does not compact
				want := r.s.Text(HLC{})
				before := len(r.s.AppendBinary(nil))
				r.s.Compact(h)
				if r.s.Text(HLC{}) != want {
					t.Fatal("compaction changed the text")
				}
				if len(r.s.AppendBinary(nil)) > before {
					t.Fatal("compaction grew the encoding")
				}
				sqRoundTrip(t, r.s)
			}
			m.snaps = nil // bases older than the horizon are refused
			m.run(80)
			all := []string{}
			for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
				all = append(all, m.merged(order...).Text(HLC{}))
			}
			if all[0] != all[1] || all[1] != all[2] {
				t.Fatalf("replicas diverge after compaction: %q", all)
			}
		})
	}
}
