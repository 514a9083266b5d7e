package merge

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/schema"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// blindStore asks for blind writes and counts the documents read.
type blindStore struct {
	store.Store
	reads atomic.Int64
}

func (b *blindStore) BlindInserts() bool { return true }

func (b *blindStore) Get(ctx context.Context, coll string, ids []string) (map[string]store.Record, error) {
	b.reads.Add(int64(len(ids)))
	return b.Store.Get(ctx, coll, ids)
}

// twoNodes returns two engines on one store that wants blind writes, as two nodes
// sharing a database would be.
func twoNodes(t *testing.T) (a, b *Engine, st *blindStore) {
	_, inner := openEngine(t)
	st = &blindStore{Store: inner}
	return New(Config{Store: st, NodeID: "a"}), New(Config{Store: st, NodeID: "b"}), st
}

// as is a writer whose actor is its device id, as the crdt tests name actors.
func as(device string) Writer { return Writer{Device: device, Actor: device} }

func set(id string, mid uint64, field string, v any) protocol.Mutation {
	raw, _ := json.Marshal(v)
	return protocol.Mutation{ID: id, Mid: mid, Set: map[string]json.RawMessage{field: raw}}
}

func storedJSON(t *testing.T, st store.Store, id string) map[string]any {
	t.Helper()
	recs, err := st.Get(context.Background(), "orders", []string{id})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(recs[id].Doc, &doc); err != nil {
		t.Fatalf("document %s: %v (%q)", id, err, recs[id].Doc)
	}
	return doc
}

// TestBlindWriteCreatesWithoutReading: a push creating documents reads none.
func TestBlindWriteCreatesWithoutReading(t *testing.T) {
	a, _, st := twoNodes(t)
	coll := Collection{Name: "orders", Fields: crdt.Fields{}}
	res, err := a.Push(context.Background(), coll, as("anna"), []protocol.Mutation{set("x", 1, "title", "Pump"), set("y", 2, "title", "Valve")})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.reads.Load(); n != 0 {
		t.Fatalf("creating 2 documents read %d", n)
	}
	if res.Versions[0].Version == "" || storedJSON(t, st, "y")["title"] != "Valve" {
		t.Fatalf("push result %+v", res)
	}
}

// TestBlindWriteMergesIntoExisting: node b, which never saw x, pushes a field of it
// blind; the insert finds x, and b merges into it rather than replacing it. Node b
// then knows x and reads it first.
func TestBlindWriteMergesIntoExisting(t *testing.T) {
	a, b, st := twoNodes(t)
	ctx := context.Background()
	coll := Collection{Name: "orders", Fields: crdt.Fields{"visits": crdt.FieldCounter}}
	if _, err := a.Push(ctx, coll, as("anna"), []protocol.Mutation{set("x", 1, "title", "Pump"), {ID: "x", Mid: 2, Incr: map[string]json.RawMessage{"visits": json.RawMessage("2")}}}); err != nil {
		t.Fatal(err)
	}
	res, err := b.Push(ctx, coll, as("ben"), []protocol.Mutation{set("x", 1, "status", "done"), {ID: "x", Mid: 2, Incr: map[string]json.RawMessage{"visits": json.RawMessage("3")}}, set("z", 3, "title", "New")})
	if err != nil {
		t.Fatal(err)
	}
	doc := storedJSON(t, st, "x")
	if doc["title"] != "Pump" || doc["status"] != "done" || doc["visits"] != float64(5) {
		t.Fatalf("x after a blind write from another node = %v; want both nodes' fields and visits 5", doc)
	}
	if res.Versions[0].Version != res.Versions[1].Version || storedJSON(t, st, "z")["title"] != "New" {
		t.Fatalf("push result %+v", res)
	}
	before := st.reads.Load()
	if _, err := b.Push(ctx, coll, as("ben"), []protocol.Mutation{set("x", 4, "status", "checked")}); err != nil {
		t.Fatal(err)
	}
	if st.reads.Load() != before+1 {
		t.Fatalf("a known document was not read first (%d reads)", st.reads.Load()-before)
	}
}

// TestBlindRetryIsNoOp: a retried push (same client and mids) reaching a node that
// does not know the document changes nothing.
func TestBlindRetryIsNoOp(t *testing.T) {
	a, b, st := twoNodes(t)
	ctx := context.Background()
	coll := Collection{Name: "orders", Fields: crdt.Fields{}}
	ms := []protocol.Mutation{set("x", 1, "title", "Pump")}
	first, err := a.Push(ctx, coll, as("anna"), ms)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := st.Store.Get(ctx, "orders", []string{"x"})
	again, err := b.Push(ctx, coll, as("anna"), ms)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := st.Store.Get(ctx, "orders", []string{"x"})
	if again.Versions[0].Version != first.Versions[0].Version || after["x"].Rev != recs["x"].Rev {
		t.Fatalf("retry through another node: version %s -> %s, rev %d -> %d",
			first.Versions[0].Version, again.Versions[0].Version, recs["x"].Rev, after["x"].Rev)
	}
}

// TestNoBlindWritesWithSchemaOrSplice: a collection with a real schema, and a
// splice, read before writing, so that their refusals stay whole.
func TestNoBlindWritesWithSchemaOrSplice(t *testing.T) {
	a, _, st := twoNodes(t)
	ctx := context.Background()
	sch, err := schema.Compile(json.RawMessage(`{"type":"object","properties":{"title":{"type":"string"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Push(ctx, Collection{Name: "orders", Fields: crdt.Fields{}, Schema: sch}, as("anna"), []protocol.Mutation{set("x", 1, "title", "Pump")}); err != nil {
		t.Fatal(err)
	}
	text := Collection{Name: "orders", Fields: crdt.Fields{"notes": crdt.FieldText}}
	if _, err := a.Push(ctx, text, as("anna"), []protocol.Mutation{splice("n", 1, "", 0, "Seal")}); err != nil {
		t.Fatal(err)
	}
	if n := st.reads.Load(); n != 2 {
		t.Fatalf("%d documents read; want both (schema, splice)", n)
	}
}

// laggingHead reports a feed head of 0 until released, as a feed whose latest
// commit's positions are not yet released would.
type laggingHead struct {
	store.Store
	released chan struct{}
}

func (l *laggingHead) Head(ctx context.Context, coll string) (uint64, error) {
	select {
	case <-l.released:
		return l.Store.Head(ctx, coll)
	default:
		return 0, nil
	}
}

// TestRetriedPushDoesNotWaitForTheFeed: a retried push changes nothing and answers
// at once, even while the feed does not hold its document yet (its writer died
// mid-allocation: the lease must end first). Its checkpoint stays within the feed,
// Pending names the document's position, and AwaitFeed waits for it.
func TestRetriedPushDoesNotWaitForTheFeed(t *testing.T) {
	_, inner := openEngine(t)
	st := &laggingHead{Store: inner, released: make(chan struct{})}
	e := New(Config{Store: st})
	coll := Collection{Name: "orders", Fields: crdt.Fields{}}
	ms := []protocol.Mutation{set("x", 1, "title", "Pump")}
	first, err := e.Push(context.Background(), coll, as("anna"), ms)
	if err != nil || first.Pending != 0 {
		t.Fatal(first, err) // a push that writes does not wait: its commit released its positions
	}
	again, err := e.Push(context.Background(), coll, as("anna"), ms)
	if err != nil || again.Seq != 0 || again.Pending != first.Seq || again.Versions[0] != first.Versions[0] {
		t.Fatalf("retry: %+v, %v; want seq 0 (the feed head), pending %d, the same version", again, err, first.Seq)
	}
	waited := make(chan error, 1)
	go func() { waited <- e.AwaitFeed(context.Background(), coll.Name, again.Pending) }()
	select {
	case err := <-waited:
		t.Fatalf("AwaitFeed returned (%v) before the document was in the feed", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(st.released)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	settled, err := e.Push(context.Background(), coll, as("anna"), ms)
	if err != nil || settled.Seq != first.Seq || settled.Pending != 0 {
		t.Fatalf("retry once the feed holds it: %+v, %v", settled, err)
	}
}
