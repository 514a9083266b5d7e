package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// latest keeps, per id, the record with the highest rev seen in a feed.
func latest(recs []store.Record) map[string]store.Record {
	out := map[string]store.Record{}
	for _, r := range recs {
		if old, ok := out[r.ID]; !ok || r.Rev > old.Rev {
			out[r.ID] = r
		}
	}
	return out
}

// assertFeedMatches checks that the feed records delivered hold, for each id, the
// stored latest state, and nothing for ids that are not stored.
func assertFeedMatches(t *testing.T, s store.Store, coll string, got map[string]store.Record) {
	t.Helper()
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	stored := mustGet(t, s, coll, ids...)
	for id, r := range got {
		want, ok := stored[id]
		if !ok {
			t.Fatalf("feed delivered %q, which is not stored", id)
		}
		if r.Rev != want.Rev || !sameContent(r, want) {
			t.Fatalf("feed's latest %s, stored %s", describe(r), describe(want))
		}
	}
}

func testChangesPaging(t *testing.T, open Opener) {
	s := openStore(t, open)
	for b := range 3 {
		var ws []store.Write
		for i := range 4 {
			ws = append(ws, write(fmt.Sprint("d", b*4+i), "1", 0))
		}
		mustCommit(t, s, "items", ws...)
	}
	for _, id := range []string{"d0", "d5", "d6", "d11"} {
		mustCommit(t, s, "items", write(id, "2", 1))
	}
	first, err := s.Changes(ctxFor(t), "items", 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Records) != 5 || !first.HasMore || first.Next != first.Records[4].Seq {
		t.Fatalf("first page of 5 = %d records, HasMore %v, Next %d", len(first.Records), first.HasMore, first.Next)
	}
	for _, limit := range []int{1, 5, 12, 100} {
		all, next := readAll(t, s, "items", 0, limit)
		if len(all) != 12 || len(latest(all)) != 12 {
			t.Fatalf("limit %d: feed has %d records for %d ids, want 12 distinct", limit, len(all), len(latest(all)))
		}
		assertFeedMatches(t, s, "items", latest(all))
		p, err := s.Changes(ctxFor(t), "items", next, limit)
		if err != nil || len(p.Records) != 0 || p.HasMore || p.Next != next {
			t.Fatalf("limit %d: Changes at the end = %+v, %v; want empty at %d", limit, p, err, next)
		}
	}
}

func testCheckpointResume(t *testing.T, open Opener) {
	s := openStore(t, open)
	b1 := mustCommit(t, s, "items", write("a", "1", 0), write("b", "1", 0), write("c", "1", 0)).Committed["b"]
	_, cp := readAll(t, s, "items", 0, 2)
	b2 := mustCommit(t, s, "items", write("b", "2", b1.Rev)).Committed["b"]
	mustCommit(t, s, "items", write("d", "1", 0))
	got, cp2 := readAll(t, s, "items", cp, 10)
	if len(got) != 2 || got[0].ID != "b" || got[1].ID != "d" || got[0].Rev != b2.Rev {
		t.Fatalf("feed after checkpoint %d = %v, want b (rev %d) then d", cp, got, b2.Rev)
	}
	assertFeedMatches(t, s, "items", latest(got))
	if more, cp3 := readAll(t, s, "items", cp2, 10); len(more) != 0 || cp3 != cp2 {
		t.Fatalf("feed after the last checkpoint %d = %v (next %d), want nothing", cp2, more, cp3)
	}
}

func testReopen(t *testing.T, open Opener) {
	s := open(t)
	b1 := mustCommit(t, s, "items", write("a", "1", 0), write("b", "1", 0)).Committed["b"]
	mustCommit(t, s, "items", write("b", "2", b1.Rev))
	before := mustGet(t, s, "items", "a", "b")
	_, cp := readAll(t, s, "items", 0, 10)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openStore(t, open)
	after := mustGet(t, s, "items", "a", "b")
	for id, r := range before {
		assertRecord(t, after[id], r)
	}
	all, cp2 := readAll(t, s, "items", 0, 10)
	if len(all) != 2 || cp2 != cp {
		t.Fatalf("feed after reopen = %v up to %d, want a and b up to %d", all, cp2, cp)
	}
	c := mustCommit(t, s, "items", write("c", "1", 0)).Committed["c"]
	if c.Seq <= cp {
		t.Fatalf("first commit after reopen got seq %d, not above the checkpoint %d", c.Seq, cp)
	}
	if got, _ := readAll(t, s, "items", cp, 10); len(got) != 1 || got[0].ID != "c" {
		t.Fatalf("feed after reopen from %d = %v, want c", cp, got)
	}
}

// testHead: Head of a new collection is 0; after commits, Changes from Head returns
// nothing, and a commit made after reading Head is found from it.
func testHead(t *testing.T, open Opener) {
	s := openStore(t, open)
	if h, err := s.Head(ctxFor(t), "items"); err != nil || h != 0 {
		t.Fatalf("Head of a new collection = %d, %v", h, err)
	}
	mustCommit(t, s, "items", write("a", "1", 0), write("b", "1", 0))
	h, err := s.Head(ctxFor(t), "items")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Changes(ctxFor(t), "items", h, 10); err != nil || len(p.Records) != 0 {
		t.Fatalf("Changes from Head %d = %+v, %v; want nothing", h, p, err)
	}
	mustCommit(t, s, "items", write("c", "1", 0))
	p, err := s.Changes(ctxFor(t), "items", h, 10)
	if err != nil || len(p.Records) != 1 || p.Records[0].ID != "c" {
		t.Fatalf("Changes from Head after a commit = %+v, %v; want c", p, err)
	}
}
