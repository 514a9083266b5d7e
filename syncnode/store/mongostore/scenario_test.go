package mongostore

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// Deterministic interleavings, driven by the commit hooks. Leases are an hour, and
// readers "wait out" a lease by moving their clock forward: nothing here sleeps.

const longLease = time.Hour

// pause makes s's next commit stop right after allocating, until resume is closed.
type pause struct {
	allocated chan struct{}
	resume    chan struct{}
	once      sync.Once
}

func pauseAfterAlloc(s *Store) *pause {
	p := &pause{allocated: make(chan struct{}), resume: make(chan struct{})}
	s.hooks.afterAlloc = func(string, int64, []string) error {
		first := false
		p.once.Do(func() { first = true })
		if first {
			close(p.allocated)
			<-p.resume
		}
		return nil
	}
	return p
}

// commitAsync runs a Commit in the background; the result arrives on the channel.
func commitAsync(t *testing.T, s *Store, ws ...store.Write) <-chan store.CommitResult {
	out := make(chan store.CommitResult, 1)
	go func() {
		res, err := s.Commit(testCtx(t), coll, ws)
		if err != nil {
			t.Error(err)
		}
		out <- res
	}()
	return out
}

// outOfOrder: A allocates first but writes last; B commits in between, and the reader
// pulls while A is still in flight. It returns what the reader lost.
func outOfOrder(t *testing.T, f feed) []string {
	srv := ferrettest.Start(t)
	a, b := newNode(t, srv, "a", longLease), newNode(t, srv, "b", longLease)
	r := newNode(t, srv, "reader", longLease)
	t0 := time.Now()
	a.now, b.now = fixedClock(t0), fixedClock(t0.Add(time.Second)) // A stamps first
	p := pauseAfterAlloc(a)
	resA := commitAsync(t, a, w("x", "a1", 0))
	<-p.allocated
	resB := mustCommit(t, b, w("y", "b1", 0))
	rd := newReader(f, r)
	rd.pull(t)
	close(p.resume)
	acked := append(records(resB.Committed), records((<-resA).Committed)...)
	rd.drain(t)
	return lost(t, r, acked, rd.seen)
}

func TestOutOfOrderCommitsReachTheReader(t *testing.T) {
	if missed := outOfOrder(t, realFeed); len(missed) != 0 {
		t.Fatalf("the watermark feed lost: %v", missed)
	}
}

// TestNaiveFeedsLoseOutOfOrderCommits shows the checker catches the two naive feeds
// of DESIGN.md in the same interleaving.
func TestNaiveFeedsLoseOutOfOrderCommits(t *testing.T) {
	for name, f := range map[string]feed{"updatedAt": naiveUpdatedAtFeed, "globalCounter": naiveCounterFeed} {
		t.Run(name, func(t *testing.T) {
			missed := outOfOrder(t, f)
			if len(missed) == 0 {
				t.Fatal("the naive feed lost nothing: the checker would not catch it")
			}
			t.Logf("lost, as expected: %v", missed)
		})
	}
}

// TestDeadBeforeWriting: A allocates for a new id and dies; the reader is held below
// A's seq until the lease, then abandons A's entry, sealing the seq, so that A's
// write (if it were still in flight) can never land below the watermark.
func TestDeadBeforeWriting(t *testing.T) {
	srv := ferrettest.Start(t)
	a, b, r := newNode(t, srv, "a", longLease), newNode(t, srv, "b", longLease), newNode(t, srv, "reader", longLease)
	var first int64
	a.hooks.afterAlloc = func(_ string, f int64, _ []string) error { first = f; return errDied }
	if _, err := a.Commit(testCtx(t), coll, []store.Write{w("x", "a1", 0)}); err != errDied {
		t.Fatalf("dying commit: %v", err)
	}
	resB := mustCommit(t, b, w("y", "b1", 0))
	rd := newReader(realFeed, r)
	if rd.drain(t); len(rd.seen) != 0 || rd.cp >= first {
		t.Fatalf("reader passed a pending seq: checkpoint %d, pending %d, seen %v", rd.cp, first, rd.seen)
	}
	r.now = func() time.Time { return time.Now().Add(2 * longLease) }
	rd.drain(t)
	if missed := lost(t, r, records(resB.Committed), rd.seen); len(missed) != 0 {
		t.Fatalf("lost: %v", missed)
	}
	late, err := a.writeDocs(testCtx(t), coll, first, []store.Write{w("x", "a1", 0)}, nil)
	if err != nil || len(late.Committed) != 0 {
		t.Fatalf("A's late insert after abandonment: %+v, %v; want a conflict", late, err)
	}
	if pend := pendingEntries(t, r); len(pend) != 0 {
		t.Fatalf("pending after abandonment: %v", pend)
	}
	resC := mustCommit(t, b, w("x", "b-x", 0)) // the id itself is free
	rd.drain(t)
	if missed := lost(t, r, records(resC.Committed), rd.seen); len(missed) != 0 || len(resC.Committed) != 1 {
		t.Fatalf("after creating x on b %+v: lost %v", resC, missed)
	}
}

// TestDeadAfterWriting: A writes its documents and dies before releasing; the reader
// abandons the entry (the seals find the seqs taken) and the documents, at A's seqs,
// reach it.
func TestDeadAfterWriting(t *testing.T) {
	srv := ferrettest.Start(t)
	a, r := newNode(t, srv, "a", longLease), newNode(t, srv, "reader", longLease)
	base := mustCommit(t, a, w("z", "z1", 0)).Committed["z"]
	var dead int64
	a.hooks.beforeRelease = func(_ string, first int64, _ []string) error { dead = first; return errDied }
	if _, err := a.Commit(testCtx(t), coll, []store.Write{w("x", "x1", 0), w("z", "z2", base.Rev)}); err != errDied {
		t.Fatalf("dying commit: %v", err)
	}
	rd := newReader(realFeed, r)
	rd.drain(t)
	if len(rd.seen) != 0 || rd.cp >= dead {
		// z moved from seq 1 to the dead node's pending allocation: nothing is settled yet
		t.Fatalf("before the lease: checkpoint %d, seen %v; want nothing from seq %d", rd.cp, rd.seen, dead)
	}
	r.now = func() time.Time { return time.Now().Add(2 * longLease) }
	rd.drain(t)
	if missed := lost(t, r, nil, rd.seen); len(missed) != 0 || len(rd.seen) != 2 {
		t.Fatalf("after abandonment: seen %v, lost %v", rd.seen, missed)
	}
	if got, want := rd.seen["z"].Doc, storetest.Record("z", "z2").Doc; string(got) != string(want) {
		t.Fatalf("z delivered as %s, want the dead node's write %s", got, want)
	}
}

// TestLateWriterIsRefused: A allocates and stalls past the lease; the reader abandons
// its entry. A's writes, landing late, must fail (conflicts), and its retry succeeds.
func TestLateWriterIsRefused(t *testing.T) {
	srv := ferrettest.Start(t)
	a, r := newNode(t, srv, "a", longLease), newNode(t, srv, "reader", longLease)
	z := mustCommit(t, a, w("z", "z1", 0)).Committed["z"]
	p := pauseAfterAlloc(a)
	resA := commitAsync(t, a, w("x", "x1", 0), w("z", "z2", z.Rev))
	<-p.allocated
	r.now = func() time.Time { return time.Now().Add(2 * longLease) }
	rd := newReader(realFeed, r)
	rd.drain(t) // abandons A's entry
	close(p.resume)
	res := <-resA
	slices.Sort(res.Conflicts)
	if len(res.Committed) != 0 || !slices.Equal(res.Conflicts, []string{"x", "z"}) {
		t.Fatalf("late writer's commit = %+v, want conflicts on x and z", res)
	}
	cur := mustGetAll(t, a, "x", "z")
	retry := mustCommit(t, a, w("x", "x1", cur["x"].Rev), w("z", "z2", cur["z"].Rev))
	rd.drain(t)
	if missed := lost(t, r, records(retry.Committed), rd.seen); len(missed) != 0 || len(retry.Committed) != 2 {
		t.Fatalf("retry %+v: lost %v", retry, missed)
	}
}

// TestWriteLandsDuringAbandonment: A's write lands after the reader found A's entry
// stale but before it seals A's seqs. The seal finds the seq taken; A's write, which
// landed while A's allocation was pending, is delivered at A's own seq.
func TestWriteLandsDuringAbandonment(t *testing.T) {
	srv := ferrettest.Start(t)
	a, r := newNode(t, srv, "a", longLease), newNode(t, srv, "reader", longLease)
	z := mustCommit(t, a, w("z", "z1", 0)).Committed["z"]
	p := pauseAfterAlloc(a)
	resA := commitAsync(t, a, w("z", "z2", z.Rev))
	<-p.allocated
	var once sync.Once
	var acked store.CommitResult
	r.hooks.beforeSeal = func(string, int64) {
		once.Do(func() { close(p.resume); acked = <-resA })
	}
	r.now = func() time.Time { return time.Now().Add(2 * longLease) }
	rd := newReader(realFeed, r)
	rd.drain(t)
	if len(acked.Committed) != 1 {
		t.Fatalf("A's commit = %+v, want z committed", acked)
	}
	if missed := lost(t, r, records(acked.Committed), rd.seen); len(missed) != 0 {
		t.Fatalf("lost: %v", missed)
	}
	want := acked.Committed["z"]
	if got := mustGetAll(t, r, "z")["z"]; got.Rev != want.Rev || got.Seq != want.Seq {
		t.Fatalf("z = rev %d seq %d, want A's write (rev %d, seq %d)", got.Rev, got.Seq, want.Rev, want.Seq)
	}
}

// TestFailedWriteSettlesItsRound: A's update fails with an error (its seq was
// sealed: A is a late writer for that seq alone) while its insert lands. A seals its
// own range, reads what landed and reports the insert committed and the update a
// conflict; the reader receives the insert.
func TestFailedWriteSettlesItsRound(t *testing.T) {
	srv := ferrettest.Start(t)
	a, r := newNode(t, srv, "a", longLease), newNode(t, srv, "reader", longLease)
	z := mustCommit(t, a, w("z", "z1", 0)).Committed["z"]
	var first int64
	a.hooks.afterAlloc = func(_ string, f int64, _ []string) error {
		first = f
		return a.seal(testCtx(t), coll, f+1, f+1) // z's seq, as a reader would
	}
	res := mustCommit(t, a, w("x", "x1", 0), w("z", "z2", z.Rev))
	if _, ok := res.Committed["x"]; !ok || !slices.Equal(res.Conflicts, []string{"z"}) {
		t.Fatalf("commit = %+v, want x committed and z a conflict", res)
	}
	if pend := pendingEntries(t, r); len(pend) != 0 {
		t.Fatalf("pending after the commit: %v", pend)
	}
	rd := newReader(realFeed, r)
	rd.drain(t)
	if missed := lost(t, r, records(res.Committed), rd.seen); len(missed) != 0 || rd.seen["x"].Seq != uint64(first) {
		t.Fatalf("lost %v; x delivered at %d, committed at %d", missed, rd.seen["x"].Seq, first)
	}
}

// TestConcurrentAbandoners: reader A stalls in the middle of abandoning P's
// allocation; reader B abandons it completely and moves on, and writer Q commits a
// new version. A's late seals must not hide Q's version from anyone, and P's late
// writes must fail.
func TestConcurrentAbandoners(t *testing.T) {
	srv := ferrettest.Start(t)
	p, q := newNode(t, srv, "p", longLease), newNode(t, srv, "q", longLease)
	a, b := newNode(t, srv, "a", longLease), newNode(t, srv, "b", longLease)
	x := mustCommit(t, q, w("x", "x1", 0)).Committed["x"]
	pp := pauseAfterAlloc(p)
	resP := commitAsync(t, p, w("x", "p", x.Rev), w("n", "p", 0))
	<-pp.allocated
	aRead, aResume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a.hooks.beforeSeal = func(string, int64) {
		once.Do(func() { close(aRead); <-aResume })
	}
	a.now = func() time.Time { return time.Now().Add(2 * longLease) }
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		if _, err := a.Changes(testCtx(t), coll, 0, 10); err != nil {
			t.Error(err)
		}
	}()
	<-aRead
	b.now = a.now
	rd := newReader(realFeed, b)
	rd.drain(t) // abandons P's allocation
	cur := mustGetAll(t, q, "x")["x"]
	resQ := mustCommit(t, q, w("x", "q", cur.Rev))
	close(aResume)
	<-aDone
	close(pp.resume)
	if late := <-resP; len(late.Committed) != 0 || len(late.Conflicts) != 2 {
		t.Fatalf("P's late writes = %+v, want two conflicts", late)
	}
	rd.drain(t)
	if missed := lost(t, b, records(resQ.Committed), rd.seen); len(missed) != 0 {
		t.Fatalf("lost: %v", missed)
	}
}

func mustGetAll(t *testing.T, s *Store, ids ...string) map[string]store.Record {
	got, err := s.Get(testCtx(t), coll, ids)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
