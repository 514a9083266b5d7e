package crdt

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/lattice-sync/lattice/api/protocol"
)

// propFields is the schema of the random histories: every kind of field.
var propFields = Fields{"hours": FieldCounter, "tags": FieldSet, "notes": FieldText, "parts": FieldList, "meta.n": FieldCounter}

var lwwPaths = []string{"status", "address", "address.city", "address.zip", "a.b.c", "a.b", "meta.x"}

// history is a random multi-replica editing session: each replica applies mutations
// made against its own current state and now and then merges another replica in.
type history struct {
	rng      *rand.Rand
	replicas []*Doc
	clocks   []*Clock
	mids     []uint64
	log      []Mutation // every mutation, in a causal order
	home     []int      // home[i]: the replica that made log[i]
	wall     int64
}

func newHistory(seed uint64, n int) *history {
	h := &history{rng: rand.New(rand.NewPCG(seed, 99)), wall: 1763719200000}
	for i := 0; i < n; i++ {
		h.replicas = append(h.replicas, NewDoc("d"))
		h.clocks = append(h.clocks, &Clock{Actor: fmt.Sprintf("c%d", i)})
		h.mids = append(h.mids, 0)
	}
	return h
}

func (h *history) run(t *testing.T, steps int) {
	for s := 0; s < steps; s++ {
		i := h.rng.IntN(len(h.replicas))
		switch r := h.rng.IntN(10); {
		case r == 0:
			j := h.rng.IntN(len(h.replicas))
			h.replicas[i].Merge(h.replicas[j])
			h.clocks[i].Receive(h.replicas[j].MaxClock(), h.wall)
		case r == 1 && len(h.log) > 0:
			// A retry reaches a replica that has the mutation already (version
			// vectors assume each client's mutations arrive in mid order).
			k := h.rng.IntN(len(h.log))
			m := h.log[k]
			if !h.replicas[i].vv.Has(m.Client, m.Mid) {
				i = h.home[k]
			}
			before := h.replicas[i].AppendBinary(nil)
			if changed, err := h.replicas[i].Apply(&m, propFields); err != nil || changed {
				t.Fatalf("retry changed=%v err=%v", changed, err)
			}
			if string(before) != string(h.replicas[i].AppendBinary(nil)) {
				t.Fatal("a retry changed the state")
			}
		default:
			h.edit(t, i)
		}
	}
}

// edit makes one random mutation on replica i against its current content.
func (h *history) edit(t *testing.T, i int) {
	d := h.replicas[i]
	h.wall += int64(h.rng.IntN(3))
	h.mids[i]++
	w := h.randomMutation(d)
	w.Mid = h.mids[i]
	m, err := ParseMutation(&w, h.clocks[i].Actor, h.clocks[i].Now(h.wall), propFields, Limits{})
	if err != nil {
		t.Fatalf("generated mutation %+v: %v", w, err)
	}
	if _, err := d.Apply(&m, propFields); err != nil {
		t.Fatalf("apply %+v: %v", w, err)
	}
	h.log = append(h.log, m)
	h.home = append(h.home, i)
}

func (h *history) randomMutation(d *Doc) protocol.Mutation {
	w := protocol.Mutation{ID: "d"}
	if h.rng.IntN(25) == 0 {
		w.Delete = true
		return w
	}
	switch h.rng.IntN(6) {
	case 0:
		p := lwwPaths[h.rng.IntN(len(lwwPaths))]
		w.Set = map[string]json.RawMessage{p: h.randomValue()}
	case 1:
		w.Unset = []string{lwwPaths[h.rng.IntN(len(lwwPaths))]}
	case 2:
		w.Incr = map[string]json.RawMessage{[]string{"hours", "meta.n"}[h.rng.IntN(2)]: json.RawMessage(fmt.Sprint(h.rng.IntN(7) - 2))}
	case 3:
		e := json.RawMessage(fmt.Sprintf(`"t%d"`, h.rng.IntN(4)))
		if h.rng.IntN(2) == 0 {
			w.Add = map[string][]json.RawMessage{"tags": {e}}
		} else {
			w.Remove = map[string][]json.RawMessage{"tags": {e}}
		}
	default:
		w.Splice = h.randomSplice(d)
	}
	return w
}

func (h *history) randomValue() json.RawMessage {
	vals := []string{`1`, `"x"`, `true`, `null`, `{"city":"Oslo","zip":"0150"}`, `{"c":[1,2]}`, `{}`, `[1,{"k":"v"}]`}
	return json.RawMessage(vals[h.rng.IntN(len(vals))])
}

func (h *history) randomSplice(d *Doc) map[string]protocol.Splice {
	path, n := "notes", 0
	var doc map[string]any
	_ = json.Unmarshal(d.Materialize(), &doc)
	if h.rng.IntN(3) == 0 {
		path = "parts"
		if l, ok := doc["parts"].([]any); ok {
			n = len(l)
		}
	} else if s, ok := doc["notes"].(string); ok {
		n = utf8.RuneCountInString(s)
	}
	at := h.rng.IntN(n + 1)
	op := protocol.SpliceOp{At: at, Delete: h.rng.IntN(n-at+1) % 3}
	if h.rng.IntN(4) != 0 {
		if path == "notes" {
			op.Insert = json.RawMessage(fmt.Sprintf(`"%c%c"`, 'a'+h.rng.IntN(26), 'A'+h.rng.IntN(26)))
		} else {
			op.Insert = json.RawMessage(fmt.Sprintf(`[%d,{"p":%d}]`, h.rng.IntN(9), h.rng.IntN(9)))
		}
	}
	return map[string]protocol.Splice{path: {Base: d.Version(), Ops: []protocol.SpliceOp{op}}}
}

func merged(ds ...*Doc) *Doc {
	out := ds[0].Clone()
	for _, d := range ds[1:] {
		out.Merge(d)
	}
	return out
}

func sameState(t *testing.T, what string, a, b *Doc) {
	t.Helper()
	if ja, jb := a.Materialize(), b.Materialize(); string(ja) != string(jb) {
		t.Fatalf("%s: documents differ:\n%s\n%s", what, ja, jb)
	}
	if ea, eb := a.AppendBinary(nil), b.AppendBinary(nil); string(ea) != string(eb) {
		t.Fatalf("%s: states differ (encodings of %d and %d bytes)", what, len(ea), len(eb))
	}
}

// TestMergeLaws checks commutativity, associativity and idempotence of Merge, and
// that applying every mutation on one replica equals merging the replicas.
func TestMergeLaws(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		h := newHistory(seed, 3)
		h.run(t, 120)
		a, b, c := h.replicas[0], h.replicas[1], h.replicas[2]
		sameState(t, fmt.Sprintf("seed %d: a+b vs b+a", seed), merged(a, b), merged(b, a))
		sameState(t, fmt.Sprintf("seed %d: (a+b)+c vs a+(b+c)", seed), merged(merged(a, b), c), merged(a, merged(b, c)))
		sameState(t, fmt.Sprintf("seed %d: a+a vs a", seed), merged(a, a), a)
		one := NewDoc("d")
		for i := range h.log {
			if _, err := one.Apply(&h.log[i], propFields); err != nil {
				t.Fatalf("seed %d: replay mutation %d: %v", seed, i, err)
			}
		}
		all := merged(a, b, c)
		if string(one.Materialize()) != string(all.Materialize()) {
			t.Fatalf("seed %d: apply-all vs merge:\n%s\n%s", seed, one.Materialize(), all.Materialize())
		}
	}
}

// TestEncodingRoundTrip checks that the storage encoding gives back an equal state.
func TestEncodingRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 30; seed++ {
		h := newHistory(seed, 2)
		h.run(t, 80)
		for _, d := range h.replicas {
			enc := d.AppendBinary(nil)
			back, err := UnmarshalDoc(d.ID(), enc)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			sameState(t, "round trip", d, back)
		}
	}
}

// TestCompactKeepsDocument checks that compaction at a horizon every replica has
// reached leaves the document as it was, and that edits after it still merge.
func TestCompactKeepsDocument(t *testing.T) {
	for seed := uint64(0); seed < 30; seed++ {
		h := newHistory(seed, 3)
		h.run(t, 150)
		all := merged(h.replicas...)
		before := all.Materialize()
		hz := Horizon{Clock: all.MaxClock(), Seen: all.VersionVector()}
		saved := all.Compact(hz)
		if got := all.Materialize(); string(got) != string(before) {
			t.Fatalf("seed %d: compaction changed the document:\n%s\n%s", seed, before, got)
		}
		if saved < 0 && !all.root.holdsSeq() {
			t.Fatalf("seed %d: compaction grew the state by %d bytes", seed, -saved)
		}
		for i := range h.replicas {
			h.replicas[i] = all.Clone()
			// each replica now holds the compacted state, so its clock moves past it,
			// as a client's does when it pulls (docs/compaction.md)
			if _, err := h.clocks[i].Receive(all.MaxClock(), h.wall); err != nil {
				t.Fatal(err)
			}
		}
		h.run(t, 60)
		sameState(t, "after compaction", merged(h.replicas[0], h.replicas[1], h.replicas[2]), merged(h.replicas[2], h.replicas[1], h.replicas[0]))
	}
}

func FuzzUnmarshalDoc(f *testing.F) {
	h := newHistory(1, 2)
	h.run(&testing.T{}, 40)
	f.Add(h.replicas[0].AppendBinary(nil))
	f.Add([]byte("Ld\x02"))
	f.Add([]byte(v1State))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := UnmarshalDoc(v1StateID, b)
		if err != nil {
			return
		}
		d.Materialize()
		d.AppendBinary(nil)
	})
}

// FuzzMergeCommutes builds two replicas from fuzzer-chosen seeds and checks Merge
// commutes and is idempotent.
func FuzzMergeCommutes(f *testing.F) {
	f.Add(uint64(1), uint8(30))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		h := newHistory(seed, 2)
		h.run(t, int(steps))
		a, b := h.replicas[0], h.replicas[1]
		sameState(t, "commute", merged(a, b), merged(b, a))
		sameState(t, "idempotent", merged(merged(a, b), b), merged(a, b))
	})
}
