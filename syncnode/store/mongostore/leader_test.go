package mongostore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// chain commits each batch of rounds on s as a round of its own, the rounds
// following each other without the queue emptying in between: each round but the
// last waits, after taking its seqs, until the next commit is queued. at runs when
// round i (from 1) has taken its seqs and not yet written, so the rounds before it
// are written, with the first seqs of the rounds so far. chain returns the results.
func chain(t *testing.T, s *Store, rounds [][]store.Write, at func(i int, firsts []int64)) []store.CommitResult {
	n := len(rounds)
	entered := make(chan int64)
	taken := 0
	s.hooks.afterAlloc = func(_ string, first int64, _ []string) error {
		taken++
		entered <- first
		for deadline := time.Now().Add(30 * time.Second); taken < n && queued(s) < 1; {
			if time.Now().After(deadline) {
				t.Error("no commit queued behind the round")
				break
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	results := make(chan store.CommitResult, n)
	commit := func(i int) { go func() { results <- mustCommit(t, s, rounds[i-1]...) }() }
	var firsts []int64
	commit(1)
	for i := 1; i <= n; i++ {
		firsts = append(firsts, <-entered)
		at(i, firsts)
		if i < n {
			commit(i + 1)
		}
	}
	out := make([]store.CommitResult, n)
	for i := range out {
		out[i] = <-results
	}
	return out
}

// singles is n rounds of one new document each: x1, x2, ...
func singles(n int) [][]store.Write {
	rounds := make([][]store.Write, n)
	for i := range rounds {
		rounds[i] = []store.Write{w(fmt.Sprint("x", i+1), "1", 0)}
	}
	return rounds
}

// pageIDs returns the ids of the records in s's first feed page.
func pageIDs(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	page, err := s.Changes(testCtx(t), coll, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range page.Records {
		ids[r.ID] = true
	}
	return ids
}

// TestAloneLeaderWritesRoundsIntoOneAllocation: with no other process allocating,
// rounds share allocations, each twice the size the previous one used; a round's
// caller is answered when the next round starts, and this process's feed has its
// write while the allocation is still pending, another process's feed only once it
// is released.
func TestAloneLeaderWritesRoundsIntoOneAllocation(t *testing.T) {
	srv := ferrettest.Start(t)
	a, other := newNode(t, srv, "a", longLease), newNode(t, srv, "other", longLease)
	a.now = fixedClock(time.Now()) // no allocation is held too long
	results := chain(t, a, singles(4), func(i int, f []int64) {
		if i != 3 { // round 1 had an allocation of 1; rounds 2 and 3 share one of 2
			return
		}
		pend := pendingEntries(t, a)
		if e, ok := pend[pendingKey(f[1])]; len(pend) != 1 || !ok || e.N != 2 || f[2] != f[1]+1 {
			t.Errorf("rounds from %v, pending %v: want rounds 2 and 3 in one allocation of 2", f, pend)
		}
		if !pageIDs(t, a)["x2"] {
			t.Error("the writing process's feed lacks round 2 once its caller is answered")
		}
		if got := pageIDs(t, other); !got["x1"] || got["x2"] {
			t.Errorf("another process's feed has %v: want round 1 (released) and not round 2 (pending)", got)
		}
	})
	var acked []store.Record
	for _, res := range results {
		acked = append(acked, records(res.Committed)...)
	}
	if pend := pendingEntries(t, a); len(pend) != 0 {
		t.Fatalf("pending after the last commit returned: %v", pend)
	}
	rd := newReader(realFeed, other)
	rd.drain(t)
	if missed := lost(t, other, acked, rd.seen); len(missed) != 0 || len(acked) != 4 {
		t.Fatalf("acknowledged %d, lost %v", len(acked), missed)
	}
}

// TestLeaderAllocatesPerRoundOnceAnotherProcessAllocates: after another process
// allocated in the collection, each round gets its own allocation, released by the
// next one, and a round's caller is answered only then: any process's feed has the
// write when the caller is answered.
func TestLeaderAllocatesPerRoundOnceAnotherProcessAllocates(t *testing.T) {
	srv := ferrettest.Start(t)
	a, b, other := newNode(t, srv, "a", longLease), newNode(t, srv, "b", longLease), newNode(t, srv, "other", longLease)
	mustCommit(t, a, w("p", "1", 0))
	mustCommit(t, b, w("q", "1", 0)) // a's next allocation misses: b allocated
	mustCommit(t, a, w("r", "1", 0))
	if !a.coll(coll).sharedSince(time.Now().Add(-time.Minute)) {
		t.Fatal("a did not notice b's allocation")
	}
	checkPerRound(t, a, other)
}

// TestWeakWriteConcernAllocatesPerRound: writes acknowledged by one server may not be
// in a majority read yet, so the leader never counts on its own reads.
func TestWeakWriteConcernAllocatesPerRound(t *testing.T) {
	srv := ferrettest.Start(t)
	a := openOn(t, srv, Config{NodeID: "a", Lease: longLease, WriteConcern: writeconcern.W1()})
	if a.settleLocally {
		t.Fatal("w:1 writes counted as settled locally")
	}
	checkPerRound(t, a, newNode(t, srv, "other", longLease))
}

// checkPerRound chains three rounds on s and checks that each has an allocation of
// its own, released before its caller is answered.
func checkPerRound(t *testing.T, s, other *Store) {
	t.Helper()
	chain(t, s, singles(3), func(i int, f []int64) {
		if i != 2 {
			return
		}
		pend := pendingEntries(t, s)
		if e, ok := pend[pendingKey(f[1])]; len(pend) != 1 || !ok || e.N != 1 {
			t.Errorf("second round from %d, pending %v: want its own allocation of 1 alone", f[1], pend)
		}
		if !pageIDs(t, other)["x1"] {
			t.Error("another process's feed lacks the first round once the second allocated")
		}
	})
}

func TestSettledRecord(t *testing.T) {
	var r settledRecord
	if _, ok := r.settledUpTo(10); ok {
		t.Fatal("an empty record knows an allocation")
	}
	r.open(10)
	steps := []struct {
		do         func()
		first, got int64
		known      bool
	}{
		{func() {}, 10, 9, true},
		{func() { r.advance(10, 15) }, 10, 15, true},
		{func() { r.advance(99, 120) }, 99, 0, false}, // unknown: not recorded
		{func() { r.close(10, 1009) }, 10, 1009, true},
		{func() { r.open(1010); r.forget(1010) }, 1010, 1009, true},
	}
	for i, st := range steps {
		st.do()
		if got, ok := r.settledUpTo(st.first); got != st.got || ok != st.known {
			t.Fatalf("step %d: settledUpTo(%d) = %d, %v; want %d, %v", i, st.first, got, ok, st.got, st.known)
		}
	}
	for i := range keepClosed - 1 {
		first := int64(2000 + i)
		r.open(first)
		r.close(first, first)
	}
	if _, ok := r.settledUpTo(10); ok {
		t.Fatalf("allocation 10 still known after %d more closed", keepClosed)
	}
	if _, ok := r.settledUpTo(1010); !ok {
		t.Fatal("allocation 1010 forgotten too early")
	}
}

// TestAloneAllocationIsReleasedAfterTheHold: under steady load an allocation is not
// kept open longer than rangeHold: the next round allocates anew, releasing it, and
// other processes see its rounds then.
func TestAloneAllocationIsReleasedAfterTheHold(t *testing.T) {
	srv := ferrettest.Start(t)
	a, other := newNode(t, srv, "a", longLease), newNode(t, srv, "other", longLease)
	var clock atomic.Int64
	t0 := time.Now()
	a.now = func() time.Time { return t0.Add(time.Duration(clock.Load())) }
	chain(t, a, singles(3), func(i int, f []int64) {
		switch i {
		case 2: // round 2 opened an allocation of 2; let it age past the hold
			clock.Store(int64(rangeHold + time.Millisecond))
		case 3:
			pend := pendingEntries(t, a)
			if _, ok := pend[pendingKey(f[2])]; len(pend) != 1 || !ok {
				t.Errorf("round 3 from %d, pending %v: want a new allocation of its own", f[2], pend)
			}
			if !pageIDs(t, other)["x2"] {
				t.Error("another process's feed lacks round 2 after its allocation was released")
			}
		}
	})
}

// TestFailedRoundGivesUpTheOpenAllocation: a round whose write fails with an error
// abandons the allocation it was writing into (sealing its unused seqs too), so the
// next round allocates anew instead of writing into sealed seqs.
func TestFailedRoundGivesUpTheOpenAllocation(t *testing.T) {
	srv := ferrettest.Start(t)
	a, other := newNode(t, srv, "a", longLease), newNode(t, srv, "other", longLease)
	a.now = fixedClock(time.Now())
	z := mustCommit(t, a, w("z", "z1", 0)).Committed["z"]
	a.coll(coll).lastUsed = 10 // the next allocation holds rounds 1 and 2
	rounds := [][]store.Write{{w("x1", "1", 0)}, {w("z", "z2", z.Rev)}, {w("x3", "1", 0)}}
	results := chain(t, a, rounds, func(i int, f []int64) {
		switch i {
		case 2: // seal z's seq as a reader would: round 2's update fails with an error
			if err := a.seal(testCtx(t), coll, f[1], f[1]); err != nil {
				t.Fatal(err)
			}
		case 3:
			if f[2] <= f[1]+1 {
				t.Errorf("round 3 got seq %d in the allocation round 2 abandoned (round 2 at %d)", f[2], f[1])
			}
		}
	})
	if got := results[1]; len(got.Committed) != 0 || len(got.Conflicts) != 1 {
		t.Fatalf("round 2 = %+v, want z a conflict", got)
	}
	if _, ok := results[2].Committed["x3"]; !ok {
		t.Fatalf("round 3 = %+v, want x3 committed", results[2])
	}
	rd := newReader(realFeed, other)
	rd.drain(t)
	var acked []store.Record
	for _, res := range results {
		acked = append(acked, records(res.Committed)...)
	}
	if missed := lost(t, other, acked, rd.seen); len(missed) != 0 {
		t.Fatalf("lost %v", missed)
	}
}
