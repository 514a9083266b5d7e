package merge

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
)

func openEngine(t *testing.T) (*Engine, store.Store) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return New(Config{Store: st}), st
}

func splice(id string, mid uint64, base string, at int, text string) protocol.Mutation {
	ins, _ := json.Marshal(text)
	return protocol.Mutation{ID: id, Mid: mid, Splice: map[string]protocol.Splice{
		"notes": {Base: base, Ops: []protocol.SpliceOp{{At: at, Insert: ins}}}}}
}

// TestSpliceOlderThanCompactionIsStaleBase compacts a stored document and then sends a
// splice against a version from before the horizon: 409 stale_base, nothing written.
func TestSpliceOlderThanCompactionIsStaleBase(t *testing.T) {
	e, st := openEngine(t)
	ctx := context.Background()
	coll := Collection{Name: "orders", Fields: crdt.Fields{"notes": crdt.FieldText}}
	first, err := e.Push(ctx, coll, as("anna"), []protocol.Mutation{splice("d", 1, "", 0, "Pump broken.")})
	if err != nil {
		t.Fatal(err)
	}
	oldBase := first.Versions[0].Version
	if _, err := e.Push(ctx, coll, as("ben"), []protocol.Mutation{splice("d", 1, oldBase, 0, "URGENT: ")}); err != nil {
		t.Fatal(err)
	}
	recs, _ := st.Get(ctx, "orders", []string{"d"})
	doc, err := crdt.UnmarshalDoc("d", recs["d"].State)
	if err != nil {
		t.Fatal(err)
	}
	doc.Compact(crdt.Horizon{Clock: doc.MaxClock(), Seen: doc.VersionVector()})
	w, _, err := e.write(coll, doc, recs["d"].Rev, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx, "orders", []store.Write{w}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Get(ctx, "orders", []string{"d"})
	_, err = e.Push(ctx, coll, as("carl"), []protocol.Mutation{splice("d", 1, oldBase, 12, " Replaced seal.")})
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 409 || pe.Code != protocol.CodeStaleBase {
		t.Fatalf("got %v, want 409 stale_base", err)
	}
	after, _ := st.Get(ctx, "orders", []string{"d"})
	if after["d"].Rev != before["d"].Rev {
		t.Fatal("a refused splice was written")
	}
	if string(after["d"].Doc) != `{"id":"d","notes":"URGENT: Pump broken."}` {
		t.Fatalf("document %s", after["d"].Doc)
	}
}

// TestRetryAcrossPushesIsIdempotent sends the same batch twice: the second answer
// has the same versions and the store is unchanged (invariant 4).
func TestRetryAcrossPushesIsIdempotent(t *testing.T) {
	e, st := openEngine(t)
	ctx := context.Background()
	coll := Collection{Name: "orders", Fields: crdt.Fields{"notes": crdt.FieldText}}
	batch := []protocol.Mutation{splice("d", 1, "", 0, "abc"), {ID: "e", Mid: 2, Set: map[string]json.RawMessage{"x": json.RawMessage(`1`)}}}
	a, err := e.Push(ctx, coll, as("anna"), batch)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st.Get(ctx, "orders", []string{"d", "e"})
	b, err := e.Push(ctx, coll, as("anna"), batch)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := st.Get(ctx, "orders", []string{"d", "e"})
	for i := range a.Versions {
		if a.Versions[i] != b.Versions[i] {
			t.Fatalf("retry answered %+v, first push %+v", b.Versions, a.Versions)
		}
	}
	for id := range before {
		if before[id].Rev != after[id].Rev || string(before[id].Doc) != string(after[id].Doc) {
			t.Fatalf("retry rewrote %s", id)
		}
	}
}

// TestStaleClockIsRefusedAfterCompaction: once a document is compacted, a push whose
// clock is at or below its horizon answers 409 stale_clock and writes nothing.
func TestStaleClockIsRefusedAfterCompaction(t *testing.T) {
	e, st := openEngine(t)
	ctx := context.Background()
	coll := Collection{Name: "orders", Fields: crdt.Fields{}}
	at := func(wall int64, actor string) string { return crdt.HLC{Wall: wall, Actor: actor}.String() }
	first := []protocol.Mutation{{ID: "x", Mid: 1, HLC: at(e.cfg.Now()-1000, "anna"), Set: map[string]json.RawMessage{"status": json.RawMessage(`"open"`)}}}
	if _, err := e.Push(ctx, coll, as("anna"), first); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Get(ctx, "orders", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := crdt.UnmarshalDoc("x", recs["x"].State)
	if err != nil {
		t.Fatal(err)
	}
	d.Compact(crdt.Horizon{Clock: d.MaxClock(), Seen: d.VersionVector()})
	w := store.NewRecord(d)
	if _, err := st.Commit(ctx, "orders", []store.Write{{Record: w, ExpectRev: recs["x"].Rev}}); err != nil {
		t.Fatal(err)
	}
	old := []protocol.Mutation{{ID: "x", Mid: 1, HLC: at(e.cfg.Now()-2000, "ben"), Set: map[string]json.RawMessage{"status": json.RawMessage(`"lost"`)}}}
	_, err = e.Push(ctx, coll, as("ben"), old)
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 409 || pe.Code != protocol.CodeStaleClock {
		t.Fatalf("an edit older than the compaction: %v, want 409 stale_clock", err)
	}
	if _, err := e.Push(ctx, coll, as("anna"), first); err != nil {
		t.Fatalf("a retry of a compacted mutation: %v", err)
	}
}
