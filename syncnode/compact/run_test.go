package compact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/compact"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
)

var fields = crdt.Fields{"hours": crdt.FieldCounter, "tags": crdt.FieldSet}

func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		fn(t, st)
	})
	t.Run("mongodb", func(t *testing.T) {
		srv := ferrettest.Start(t)
		st, err := mongostore.Open(context.Background(), mongostore.Config{URI: srv.URI, Database: srv.Database})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		fn(t, st)
	})
}

// history writes 20 documents: a retired device creates them, live devices edit
// them (increments, set churn, unsets), and some are deleted.
func history(t *testing.T, st store.Store) {
	e := merge.New(merge.Config{Store: st})
	coll := merge.Collection{Name: "orders", Fields: fields}
	ctx := context.Background()
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	for i := range 20 {
		id := fmt.Sprintf("wo-%02d", i)
		steps := []struct {
			who string
			m   protocol.Mutation
		}{
			{"retired", protocol.Mutation{Set: map[string]json.RawMessage{"title": raw(`"pump"`), "draft": raw("true")}, Incr: map[string]json.RawMessage{"hours": raw("1")}}},
			{"anna", protocol.Mutation{Incr: map[string]json.RawMessage{"hours": raw("2")}, Add: map[string][]json.RawMessage{"tags": {raw(`"a"`), raw(`"b"`)}}}},
			{"ben", protocol.Mutation{Unset: []string{"draft"}, Remove: map[string][]json.RawMessage{"tags": {raw(`"a"`)}}}},
		}
		for j, s := range steps {
			s.m.ID, s.m.Mid = id, uint64(i*10+j+1)
			if _, err := e.Push(ctx, coll, merge.Writer{Device: s.who, Actor: s.who}, []protocol.Mutation{s.m}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if _, err := e.Push(ctx, coll, merge.Writer{Device: "ben", Actor: "ben"}, []protocol.Mutation{{ID: id, Mid: uint64(i*10 + 9), Delete: true}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// snapshot is every document's JSON and seq.
func snapshot(t *testing.T, st store.Store) map[string]string {
	page, err := st.Changes(context.Background(), "orders", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range page.Records {
		out[r.ID] = fmt.Sprintf("%d %s", r.Seq, r.Doc)
	}
	return out
}

func TestRunReclaimsWithoutChangingDocuments(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx, now := context.Background(), time.Now()
		history(t, st)
		reg := st.(store.Clients)
		head, _ := st.Head(ctx, "orders")
		for _, step := range []error{reg.Seen(ctx, "anna", now), reg.Acked(ctx, "anna", "orders", head),
			reg.Seen(ctx, "ben", now), reg.Acked(ctx, "ben", "orders", head),
			reg.Seen(ctx, "retired", now.Add(-200*24*time.Hour))} {
			if step != nil {
				t.Fatal(step)
			}
		}
		before := snapshot(t, st)
		opts := compact.Options{Store: st, Collections: []string{"orders"}, Retention: 90 * 24 * time.Hour, DryRun: true, PageSize: 7}
		dry, err := compact.Run(ctx, opts)
		if err != nil || dry.DocumentsScanned != 20 || dry.DocumentsRewritten == 0 || dry.BytesAfter >= dry.BytesBefore {
			t.Fatalf("dry run: %+v, %v", dry, err)
		}
		opts.DryRun = false
		real, err := compact.Run(ctx, opts)
		if err != nil || real.DocumentsRewritten != dry.DocumentsRewritten || real.ClientsFolded < 16 || real.BytesAfter != dry.BytesAfter {
			t.Fatalf("run: %+v, %v (dry run %+v)", real, err, dry)
		}
		after := snapshot(t, st)
		for id, want := range before {
			if after[id] != want {
				t.Errorf("%s changed: %s -> %s", id, want, after[id])
			}
		}
		again, err := compact.Run(ctx, opts)
		if err != nil || again.DocumentsRewritten != 0 {
			t.Fatalf("a second run rewrote %d documents (%v)", again.DocumentsRewritten, err)
		}
	})
}

// TestUnacknowledgedChangesStay: a document changed after a live client's last
// acknowledgement is not compacted.
func TestUnacknowledgedChangesStay(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx, now := context.Background(), time.Now()
		history(t, st)
		reg := st.(store.Clients)
		if err := reg.Seen(ctx, "anna", now); err != nil {
			t.Fatal(err)
		}
		if err := reg.Acked(ctx, "anna", "orders", 1); err != nil {
			t.Fatal(err)
		}
		s, err := compact.Run(ctx, compact.Options{Store: st, Collections: []string{"orders"}, Retention: time.Hour})
		if err != nil || s.DocumentsRewritten != 0 {
			t.Fatalf("%+v, %v: nothing is stable beyond seq 1", s, err)
		}
	})
}
