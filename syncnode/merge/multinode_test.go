package merge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
)

// TestNodesMergeConcurrentPushesToOneDocument runs three engines, each with its own
// MongoDB store client as separate nodes would have, pushing concurrently to the same
// documents: compare-and-swap conflicts are re-merged, so every increment counts
// exactly once and every field written survives (invariant 2). Each push also creates
// a document that the other nodes create at the same moment: all three write it
// blind (blind.go), two find it taken, and merge into it instead.
func TestNodesMergeConcurrentPushesToOneDocument(t *testing.T) {
	srv := ferrettest.Start(t)
	coll := Collection{Name: "orders", Fields: crdt.Fields{"hours": crdt.FieldCounter}}
	var wg sync.WaitGroup
	const nodes, pushes = 3, 15
	for n := 0; n < nodes; n++ {
		st, err := mongostore.Open(context.Background(), mongostore.Config{URI: srv.URI, Database: srv.Database})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		e := New(Config{Store: st, NodeID: fmt.Sprintf("node-%d", n)})
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			client := fmt.Sprintf("c%d", n)
			for i := 1; i <= pushes; i++ {
				ms := []protocol.Mutation{{ID: "d", Mid: uint64(2*i - 1), Incr: map[string]json.RawMessage{"hours": json.RawMessage(`1`)},
					Set: map[string]json.RawMessage{fmt.Sprintf("f%d_%d", n, i): json.RawMessage(`true`)}},
					{ID: fmt.Sprint("new", i), Mid: uint64(2 * i), Incr: map[string]json.RawMessage{"hours": json.RawMessage(`1`)},
						Set: map[string]json.RawMessage{fmt.Sprint("by", n): json.RawMessage(`true`)}}}
				for { // a client retries the same body after a 503, as PROTOCOL.md says
					_, err := e.Push(context.Background(), coll, as(client), ms)
					if errors.Is(err, ErrConflictRetries) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		}(n)
	}
	wg.Wait()
	st, _ := mongostore.Open(context.Background(), mongostore.Config{URI: srv.URI, Database: srv.Database})
	defer st.Close(context.Background())
	ids := []string{"d"}
	for i := 1; i <= pushes; i++ {
		ids = append(ids, fmt.Sprint("new", i))
	}
	recs, err := st.Get(context.Background(), "orders", ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var doc map[string]any
		if err := json.Unmarshal(recs[id].Doc, &doc); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		hours, fields := nodes*pushes, 2+nodes*pushes // id, hours, one field per push
		if id != "d" {
			hours, fields = nodes, 2+nodes
		}
		if doc["hours"] != float64(hours) || len(doc) != fields {
			t.Fatalf("%s: hours %v, %d fields; want %d and %d", id, doc["hours"], len(doc), hours, fields)
		}
	}
}
