package storetest

import (
	"slices"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// testRewrite: a rewrite replaces a document's state in place (same seq, nothing
// new in the feed), and conflicts when a write got there first or the document does
// not exist.
func testRewrite(t *testing.T, open Opener) {
	ctx := ctxFor(t)
	s := openStore(t, open)
	rw, ok := s.(store.Rewriter)
	if !ok {
		t.Skip("the store cannot rewrite in place")
	}
	first := mustCommit(t, s, "items", write("a", "a1", 0)).Committed["a"]
	head, err := s.Head(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	res, err := rw.Rewrite(ctx, "items", []store.Write{write("a", "a1-compacted", first.Rev), write("missing", "m", 0)})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.Committed["a"]
	if !ok || got.Seq != first.Seq || !slices.Equal(res.Conflicts, []string{"missing"}) {
		t.Fatalf("rewrite = %+v: want a committed at seq %d, missing a conflict", res, first.Seq)
	}
	stored := mustGet(t, s, "items", "a")["a"]
	want := rec("a", "a1-compacted")
	want.Seq, want.Rev = first.Seq, stored.Rev
	assertRecord(t, stored, want)
	if page, err := s.Changes(ctx, "items", head, 0); err != nil || len(page.Records) != 0 {
		t.Fatalf("the rewrite moved in the feed: %+v, %v", page, err)
	}
	pushed := mustCommit(t, s, "items", write("a", "a2", stored.Rev)).Committed["a"]
	res, err = rw.Rewrite(ctx, "items", []store.Write{write("a", "late", stored.Rev)})
	if err != nil || len(res.Committed) != 0 || !slices.Equal(res.Conflicts, []string{"a"}) {
		t.Fatalf("a rewrite after a push: %+v, %v: want a conflict", res, err)
	}
	want = rec("a", "a2")
	want.Seq, want.Rev = pushed.Seq, pushed.Rev
	assertRecord(t, mustGet(t, s, "items", "a")["a"], want)
}
