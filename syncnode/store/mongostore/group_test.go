package mongostore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// roundHold stops s's first allocation until waiting more commits are queued behind
// it, and counts allocations.
type roundHold struct {
	allocs  int
	entered chan struct{} // closed when the first allocation is held
}

func holdFirstRound(t *testing.T, s *Store, waiting int) *roundHold {
	h := &roundHold{entered: make(chan struct{})}
	s.hooks.afterAlloc = func(string, int64, []string) error {
		h.allocs++
		if h.allocs == 1 {
			close(h.entered)
			deadline := time.Now().Add(30 * time.Second)
			for queued(s) < waiting {
				if time.Now().After(deadline) {
					t.Errorf("only %d commits queued behind the first", queued(s))
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		return nil
	}
	return h
}

// commitConcurrently commits each batch from its own goroutine, the first one alone
// until its round is held, and returns the results in order.
func commitConcurrently(t *testing.T, s *Store, h *roundHold, batches [][]store.Write) []store.CommitResult {
	results := make([]store.CommitResult, len(batches))
	var wg sync.WaitGroup
	for i, batch := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = mustCommit(t, s, batch...)
		}()
		if i == 0 {
			<-h.entered
		}
	}
	wg.Wait()
	return results
}

func queued(s *Store) int {
	c := &s.coll(coll).committer
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// TestConcurrentCommitsShareAnAllocation: commits queued behind a running one go
// into one allocation together; each caller gets its own result, and every write
// reaches the feed with nothing left pending.
func TestConcurrentCommitsShareAnAllocation(t *testing.T) {
	s := newNode(t, ferrettest.Start(t), "n", longLease)
	hold := holdFirstRound(t, s, 4)
	batches := make([][]store.Write, 5)
	for i := range batches {
		batches[i] = []store.Write{w(fmt.Sprint("a", i), "1", 0), w(fmt.Sprint("b", i), "1", 0)}
	}
	results := commitConcurrently(t, s, hold, batches)
	if hold.allocs != 2 {
		t.Fatalf("5 concurrent commits made %d allocations, want 2 (one held, then the 4 queued together)", hold.allocs)
	}
	var acked []store.Record
	for i, res := range results {
		if len(res.Committed) != 2 || len(res.Conflicts) != 0 {
			t.Fatalf("commit %d: %+v", i, res)
		}
		acked = append(acked, records(res.Committed)...)
	}
	rd := newReader(realFeed, s)
	rd.drain(t)
	if missed := lost(t, s, acked, rd.seen); len(missed) != 0 {
		t.Fatalf("lost %v", missed)
	}
	if pend := pendingEntries(t, s); len(pend) != 0 {
		t.Fatalf("pending after the group: %v", pend)
	}
}

// TestGroupKeepsOneWritePerID: two queued commits of the same new document go into
// different rounds, so exactly one creates it and the other gets a conflict.
func TestGroupKeepsOneWritePerID(t *testing.T) {
	s := newNode(t, ferrettest.Start(t), "n", longLease)
	hold := holdFirstRound(t, s, 2)
	results := commitConcurrently(t, s, hold, [][]store.Write{{w("first", "0", 0)}, {w("x", "1", 0)}, {w("x", "2", 0)}})
	if hold.allocs != 3 {
		t.Fatalf("%d allocations, want 3 (the same id never shares a round)", hold.allocs)
	}
	if n := len(results[1].Committed) + len(results[2].Committed); n != 1 || len(results[1].Conflicts)+len(results[2].Conflicts) != 1 {
		t.Fatalf("two creations of x: %+v and %+v; want one committed, one conflict", results[1], results[2])
	}
}

// TestCallerIsNotHeldByLaterRounds: a caller's Commit returns once the next round
// has started (and, when the node does not write alone, released its round), while
// the leader goes on with further rounds (the leader does not run on the first
// caller's goroutine).
func TestCallerIsNotHeldByLaterRounds(t *testing.T) {
	s := newNode(t, ferrettest.Start(t), "n", longLease)
	hold := holdFirstRound(t, s, 1)
	second, stall, resume := make(chan struct{}), make(chan struct{}), make(chan struct{})
	first := s.hooks.afterAlloc
	s.hooks.afterAlloc = func(c string, f int64, ids []string) error {
		err := first(c, f, ids)
		switch hold.allocs {
		case 2:
			close(second)
			for queued(s) < 1 {
				time.Sleep(time.Millisecond)
			}
		case 3:
			close(stall)
			<-resume
		}
		return err
	}
	results := make(chan store.CommitResult, 3)
	go func() { results <- mustCommit(t, s, w("a", "1", 0)) }()
	<-hold.entered
	go func() { results <- mustCommit(t, s, w("b", "1", 0)) }()
	<-second
	go func() { results <- mustCommit(t, s, w("c", "1", 0)) }()
	<-stall // the third round is allocated and held before writing
	select {
	case res := <-results:
		if _, ok := res.Committed["a"]; !ok {
			t.Fatalf("first answer: %+v, want the first commit", res)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first commit waited for the third round")
	}
	close(resume)
	for range 2 {
		if res := <-results; len(res.Committed) != 1 {
			t.Fatalf("commit: %+v", res)
		}
	}
}

// TestCallerReturnsWhenTheNextRoundStarts: a caller's Commit returns as soon as the
// next round has started (alone: this process's reads see the round; shared: the
// next round's allocation released it), while that next round is still being
// written; it does not wait for the rounds after its own.
func TestCallerReturnsWhenTheNextRoundStarts(t *testing.T) {
	s := newNode(t, ferrettest.Start(t), "n", longLease)
	hold := holdFirstRound(t, s, 1)
	stall, resume := make(chan struct{}), make(chan struct{})
	first := s.hooks.afterAlloc
	s.hooks.afterAlloc = func(c string, f int64, ids []string) error {
		err := first(c, f, ids)
		if hold.allocs == 2 {
			close(stall)
			<-resume
		}
		return err
	}
	done := make(chan store.CommitResult, 1)
	go func() { done <- mustCommit(t, s, w("a", "1", 0)) }()
	<-hold.entered
	second := make(chan store.CommitResult, 1)
	go func() { second <- mustCommit(t, s, w("b", "1", 0)) }()
	<-stall // the second round is allocated and held before writing
	select {
	case res := <-done:
		if len(res.Committed) != 1 {
			t.Fatalf("first commit: %+v", res)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first commit waited for the second round")
	}
	close(resume)
	if res := <-second; len(res.Committed) != 1 {
		t.Fatalf("second commit: %+v", res)
	}
}
