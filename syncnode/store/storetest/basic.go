package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
)

func testEmptyStore(t *testing.T, open Opener) {
	s := openStore(t, open)
	if err := s.Ping(ctxFor(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := mustGet(t, s, "items", "a", "b"); len(got) != 0 {
		t.Fatalf("Get on an empty store = %v, want nothing", got)
	}
	p, err := s.Changes(ctxFor(t), "items", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 0 || p.HasMore || p.Next != 0 {
		t.Fatalf("Changes on an empty store = %+v, want an empty page at 0", p)
	}
	res := mustCommit(t, s, "items")
	if len(res.Committed) != 0 || len(res.Conflicts) != 0 {
		t.Fatalf("empty Commit = %+v", res)
	}
}

func testInsertAndGet(t *testing.T, open Opener) {
	s := openStore(t, open)
	res := mustCommit(t, s, "items", write("a", "a1", 0), write("b", "b1", 0))
	if len(res.Conflicts) != 0 || len(res.Committed) != 2 {
		t.Fatalf("Commit = %+v, want a and b committed", res)
	}
	a, b := res.Committed["a"], res.Committed["b"]
	if a.Rev < 1 || b.Rev < 1 || a.Seq == 0 || b.Seq == 0 || a.Seq == b.Seq {
		t.Fatalf("committed a=%s b=%s: want revs >= 1 and distinct non-zero seqs", describe(a), describe(b))
	}
	got := mustGet(t, s, "items", "a", "b", "missing")
	if len(got) != 2 {
		t.Fatalf("Get returned %d records, want 2", len(got))
	}
	assertRecord(t, got["a"], a)
	assertRecord(t, got["b"], b)
	want := rec("a", "a1")
	want.Rev, want.Seq = a.Rev, a.Seq
	assertRecord(t, got["a"], want)
}

func testCompareAndSwap(t *testing.T, open Opener) {
	s := openStore(t, open)
	first := mustCommit(t, s, "items", write("a", "a1", 0)).Committed["a"]
	second := mustCommit(t, s, "items", write("a", "a2", first.Rev)).Committed["a"]
	if second.Rev <= first.Rev || second.Seq <= first.Seq {
		t.Fatalf("update = %s after %s: want a higher rev and a higher seq", describe(second), describe(first))
	}
	for _, w := range []store.Write{write("a", "stale", first.Rev), write("a", "again", 0), write("nope", "n", second.Rev)} {
		res := mustCommit(t, s, "items", w)
		if len(res.Committed) != 0 || !slices.Equal(res.Conflicts, []string{w.Record.ID}) {
			t.Fatalf("Commit(%s expecting rev %d) = %+v, want a conflict", w.Record.ID, w.ExpectRev, res)
		}
	}
	got := mustGet(t, s, "items", "a", "nope")
	if len(got) != 1 {
		t.Fatalf("Get after conflicts = %v, want only a", got)
	}
	assertRecord(t, got["a"], second)
}

func testMixedBatch(t *testing.T, open Opener) {
	s := openStore(t, open)
	b1 := mustCommit(t, s, "items", write("b", "b1", 0)).Committed["b"]
	b2 := mustCommit(t, s, "items", write("b", "b2", b1.Rev)).Committed["b"]
	a1 := mustCommit(t, s, "items", write("a", "a1", 0)).Committed["a"]
	res := mustCommit(t, s, "items",
		write("a", "a2", a1.Rev), // ok
		write("b", "b3", b1.Rev), // stale
		write("c", "c1", 0),      // ok
		write("a0", "x", 0),      // ok
		write("b0", "y", a1.Rev), // missing: conflict
		write("d", "d1", 0))      // ok
	slices.Sort(res.Conflicts)
	if !slices.Equal(res.Conflicts, []string{"b", "b0"}) || len(res.Committed) != 4 {
		t.Fatalf("mixed Commit = %+v, want conflicts [b b0] and 4 committed", res)
	}
	got := mustGet(t, s, "items", "a", "b", "c", "d", "a0", "b0")
	for id, r := range res.Committed {
		assertRecord(t, got[id], r)
	}
	if got["b"].Rev != b2.Rev || !sameContent(got["b"], rec("b", "b2")) {
		t.Fatalf("conflicting write changed b: %s", describe(got["b"]))
	}
}

func testInsertRace(t *testing.T, open Opener) {
	s := openStore(t, open)
	const racers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []store.Record
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Commit(ctxFor(t), "items", []store.Write{write("new", fmt.Sprint("racer", i), 0)})
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range res.Committed {
				winners = append(winners, r)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d of %d racers created the same id, want exactly 1", len(winners), racers)
	}
	assertRecord(t, mustGet(t, s, "items", "new")["new"], winners[0])
}

func testInvalidCalls(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := ctxFor(t)
	if _, err := s.Commit(ctx, "items", []store.Write{write("a", "1", 0), write("a", "2", 0)}); err == nil {
		t.Fatal("Commit with the same id twice: no error")
	}
	if _, err := s.Commit(ctx, "", []store.Write{write("a", "1", 0)}); err == nil {
		t.Fatal("Commit to an empty collection name: no error")
	}
	if _, err := s.Commit(ctx, "items", []store.Write{write("", "1", 0)}); err == nil {
		t.Fatal("Commit of an empty id: no error")
	}
	if _, err := s.Get(ctx, "bad$name", []string{"a"}); err == nil {
		t.Fatal("Get from a collection named bad$name: no error")
	}
	if got := mustGet(t, s, "items", "a"); len(got) != 0 {
		t.Fatalf("rejected commits wrote %v", got)
	}
}

func testDeleted(t *testing.T, open Opener) {
	s := openStore(t, open)
	a1 := mustCommit(t, s, "items", write("a", "a1", 0)).Committed["a"]
	del := store.Write{Record: Tombstone("a"), ExpectRev: a1.Rev}
	committed := mustCommit(t, s, "items", del).Committed["a"]
	got := mustGet(t, s, "items", "a")["a"]
	assertRecord(t, got, committed)
	if !got.Deleted || string(got.Doc) != "null" || got.Rev <= a1.Rev {
		t.Fatalf("deleted record = %s", describe(got))
	}
	all, _ := readAll(t, s, "items", 0, 10)
	if len(all) != 1 || !all[0].Deleted {
		t.Fatalf("feed after delete = %v, want the deleted record", all)
	}
	assertRecord(t, all[0], committed)
}

func testSeqFollowsCommitOrder(t *testing.T, open Opener) {
	s := openStore(t, open)
	var last uint64
	for i := range 5 {
		r := mustCommit(t, s, "items", write(fmt.Sprint("k", i%2), fmt.Sprint(i), int64(i/2))).Committed
		for _, c := range r {
			if c.Seq <= last {
				t.Fatalf("commit %d got seq %d after a commit with seq %d", i, c.Seq, last)
			}
			last = c.Seq
		}
	}
}

func testCollectionsAreSeparate(t *testing.T, open Opener) {
	s := openStore(t, open)
	mustCommit(t, s, "alpha", write("a", "alpha", 0))
	mustCommit(t, s, "beta", write("a", "beta", 0))
	if got := mustGet(t, s, "alpha", "a")["a"]; !sameContent(got, rec("a", "alpha")) {
		t.Fatalf("alpha/a = %s", describe(got))
	}
	for _, coll := range []string{"alpha", "beta"} {
		all, _ := readAll(t, s, coll, 0, 10)
		if len(all) != 1 || !sameContent(all[0], rec("a", coll)) {
			t.Fatalf("feed of %s = %v", coll, all)
		}
	}
}
