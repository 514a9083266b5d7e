package crdt

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

// vectorFile is the format of testdata/vectors/merge.json.
type vectorFile struct {
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name        string            `json:"name"`
	Fields      map[string]string `json:"fields"`
	Mutations   []vectorMutation  `json:"mutations"`
	Ordered     bool              `json:"ordered"`
	Expect      json.RawMessage   `json:"expect"`
	ExpectOneOf []json.RawMessage `json:"expectOneOf"`
}

type vectorMutation struct {
	Client string `json:"client"`
	protocol.Mutation
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	path := os.Getenv("LATTICE_VECTORS")
	if path == "" {
		path = "testdata/vectors/merge.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var f vectorFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s has no vectors", path)
	}
	return f.Vectors
}

// TestVectors runs every vector in every allowed order on one replica, and split
// across two and three replicas merged in several orders.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			r := newVectorRun(t, v)
			var first []byte
			orders := r.orders()
			for _, order := range orders {
				got := r.applyInOrder(order)
				r.check(got, order)
				if first != nil && string(first) != string(got) {
					t.Fatalf("order %v gives %s, another order gave %s", order, got, first)
				}
				first = got
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(v.Name))))
			for i := 0; i < 40; i++ {
				order := orders[rng.IntN(len(orders))]
				got := r.applySplit(order, 2+i%2, rng)
				if string(got) != string(first) {
					t.Fatalf("split over replicas (order %v) gives %s, one replica gave %s", order, got, first)
				}
			}
			t.Logf("%d orders, 40 replica splits", len(orders))
		})
	}
}

type vectorRun struct {
	t      *testing.T
	v      vector
	fields Fields
	deps   [][]int // deps[i]: mutations that must come before i
	bases  [][]int // bases[i]: mutations whose versions i's splices name
}

func newVectorRun(t *testing.T, v vector) *vectorRun {
	r := &vectorRun{t: t, v: v, fields: Fields{}, deps: make([][]int, len(v.Mutations)), bases: make([][]int, len(v.Mutations))}
	for p, ty := range v.Fields {
		ft, err := ParseFieldType(ty)
		if err != nil {
			t.Fatal(err)
		}
		r.fields[p] = ft
	}
	for i, m := range v.Mutations {
		for j, o := range v.Mutations {
			if j != i && o.Client == m.Client && o.Mid < m.Mid {
				r.deps[i] = append(r.deps[i], j)
			}
		}
		for _, s := range m.Splice {
			if n, ok := strings.CutPrefix(s.Base, "@"); ok {
				k, err := strconv.Atoi(n)
				if err != nil || k >= len(v.Mutations) {
					t.Fatalf("mutation %d: bad base %q", i, s.Base)
				}
				r.deps[i] = append(r.deps[i], k)
				r.bases[i] = append(r.bases[i], k)
			}
		}
	}
	return r
}

// orders lists every order the vector allows (all of them up to 6 mutations, a
// seeded sample beyond).
func (r *vectorRun) orders() [][]int {
	n := len(r.v.Mutations)
	if r.v.Ordered {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return [][]int{order}
	}
	var out [][]int
	var rec func(prefix []int, used []bool)
	rec = func(prefix []int, used []bool) {
		if len(prefix) == n {
			out = append(out, append([]int(nil), prefix...))
			return
		}
		for i := 0; i < n; i++ {
			if !used[i] && r.ready(i, used) {
				used[i] = true
				rec(append(prefix, i), used)
				used[i] = false
			}
		}
	}
	rec(nil, make([]bool, n))
	if n > 6 {
		rng := rand.New(rand.NewPCG(7, 7))
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:min(len(out), 720)]
	}
	return out
}

func (r *vectorRun) ready(i int, done []bool) bool {
	for _, d := range r.deps[i] {
		if !done[d] {
			return false
		}
	}
	return true
}

// replica is one copy of the document and the versions it produced.
type replica struct {
	doc      *Doc
	versions map[int]string // mutation index -> version right after it applied
}

func (r *vectorRun) apply(rep *replica, i int) {
	vm := r.v.Mutations[i]
	w := vm.Mutation
	w.Splice = map[string]protocol.Splice{}
	for p, s := range vm.Splice {
		if n, ok := strings.CutPrefix(s.Base, "@"); ok {
			k, _ := strconv.Atoi(n)
			s.Base = rep.versions[k]
		}
		w.Splice[p] = s
	}
	clock, err := ParseHLC(w.HLC)
	if err != nil {
		r.t.Fatalf("mutation %d: %v", i, err)
	}
	m, err := ParseMutation(&w, vm.Client, clock, r.fields, Limits{})
	if err != nil {
		r.t.Fatalf("mutation %d: %v", i, err)
	}
	if _, err := rep.doc.Apply(&m, r.fields); err != nil {
		r.t.Fatalf("apply mutation %d: %v", i, err)
	}
	rep.versions[i] = rep.doc.Version()
}

func (r *vectorRun) newReplica() *replica {
	id := r.v.Mutations[0].ID
	return &replica{doc: NewDoc(id), versions: map[int]string{}}
}

func (r *vectorRun) applyInOrder(order []int) []byte {
	rep := r.newReplica()
	for _, i := range order {
		r.apply(rep, i)
	}
	r.roundTrip(rep.doc)
	return rep.doc.Materialize()
}

// applySplit deals the mutations of order out to k replicas (a splice goes where its
// base was made), then merges the replicas in a random order.
func (r *vectorRun) applySplit(order []int, k int, rng *rand.Rand) []byte {
	reps := make([]*replica, k)
	for i := range reps {
		reps[i] = r.newReplica()
	}
	home := map[int]int{}
	for _, i := range order {
		h := rng.IntN(k)
		for _, d := range r.bases[i] {
			h = home[d]
		}
		home[i] = h
		r.apply(reps[h], i)
	}
	rng.Shuffle(k, func(i, j int) { reps[i], reps[j] = reps[j], reps[i] })
	merged := reps[0].doc.Clone()
	for _, rep := range reps[1:] {
		merged.Merge(rep.doc)
	}
	merged.Merge(reps[rng.IntN(k)].doc) // idempotent
	return merged.Materialize()
}

// roundTrip checks that the storage encoding gives back the same document.
func (r *vectorRun) roundTrip(d *Doc) {
	enc := d.AppendBinary(nil)
	back, err := UnmarshalDoc(d.ID(), enc)
	if err != nil {
		r.t.Fatalf("decode: %v", err)
	}
	if string(back.Materialize()) != string(d.Materialize()) || string(back.AppendBinary(nil)) != string(enc) {
		r.t.Fatalf("encoding round trip changed the document")
	}
}

func (r *vectorRun) check(got []byte, order []int) {
	wants := r.v.ExpectOneOf
	if len(wants) == 0 {
		wants = []json.RawMessage{r.v.Expect}
	}
	for _, w := range wants {
		if jsonEqual(r.t, got, w) {
			return
		}
	}
	r.t.Fatalf("order %v: got %s, want %s", order, got, wants)
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
