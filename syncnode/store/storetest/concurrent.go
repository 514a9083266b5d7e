package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// Sizes of the concurrent test: writers commit rounds each over shared ids, while
// readers pull from their checkpoints.
const (
	concWriters = 4
	concRounds  = 12
	concIDs     = 6
	concReaders = 2
)

func testConcurrentNoLoss(t *testing.T, open Opener) {
	s := openStore(t, open)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	seen := make([]map[string]store.Record, concReaders)
	for i := range concReaders {
		readers.Add(1)
		go func() {
			defer readers.Done()
			seen[i] = pullUntil(t, s, stop, 3)
		}()
	}
	var writers sync.WaitGroup
	acked := make([][]store.Record, concWriters)
	for w := range concWriters {
		writers.Add(1)
		go func() {
			defer writers.Done()
			acked[w] = writeRounds(t, s, w)
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if t.Failed() {
		return
	}
	for i, got := range seen {
		checkDelivered(t, s, fmt.Sprint("reader ", i), got, acked)
	}
}

// writeRounds is one writer: each round reads one or two shared ids and commits a
// new version of them, retrying on conflict. It returns every acknowledged record.
func writeRounds(t *testing.T, s store.Store, w int) []store.Record {
	var acked []store.Record
	for round := range concRounds {
		ids := []string{fmt.Sprint("id", (w+round)%concIDs)}
		if round%3 == 0 {
			ids = append(ids, fmt.Sprint("id", (w+round+1)%concIDs))
		}
		for attempt := 0; len(ids) > 0; attempt++ {
			if attempt == 200 {
				t.Errorf("writer %d: round %d still conflicting after 200 attempts", w, round)
				return acked
			}
			res, err := commitNext(t, s, ids, fmt.Sprintf("w%d-r%d-a%d", w, round, attempt))
			if err != nil {
				t.Errorf("writer %d: %v", w, err)
				return acked
			}
			for _, r := range res.Committed {
				acked = append(acked, r)
			}
			ids = res.Conflicts
		}
	}
	return acked
}

// commitNext reads ids and commits a version tagged tag on top of each.
func commitNext(t *testing.T, s store.Store, ids []string, tag string) (store.CommitResult, error) {
	cur, err := s.Get(ctxFor(t), "items", ids)
	if err != nil {
		return store.CommitResult{}, err
	}
	ws := make([]store.Write, 0, len(ids))
	for _, id := range ids {
		ws = append(ws, write(id, tag, cur[id].Rev))
	}
	return s.Commit(ctxFor(t), "items", ws)
}

// pullUntil pulls the feed from checkpoint to checkpoint until stop is closed, then
// catches up to the end; it returns the latest record seen per id.
func pullUntil(t *testing.T, s store.Store, stop <-chan struct{}, limit int) map[string]store.Record {
	var all []store.Record
	var cp uint64
	for {
		select {
		case <-stop:
			rest, _ := readAll(t, s, "items", cp, limit)
			return latest(append(all, rest...))
		default:
		}
		p, err := s.Changes(ctxFor(t), "items", cp, limit)
		if err != nil {
			t.Errorf("Changes(%d): %v", cp, err)
			return nil
		}
		checkPage(t, p, cp, limit)
		all = append(all, p.Records...)
		cp = p.Next
		if len(p.Records) == 0 {
			time.Sleep(time.Millisecond) // pace an idle reader; not a correctness bound
		}
	}
}

// checkDelivered asserts that a reader's latest records equal the stored state of
// every document and cover every acknowledged commit.
func checkDelivered(t *testing.T, s store.Store, who string, got map[string]store.Record, acked [][]store.Record) {
	t.Helper()
	for _, recs := range acked {
		for _, a := range recs {
			if r, ok := got[a.ID]; !ok || r.Rev < a.Rev {
				t.Fatalf("%s: acknowledged %s never reached it (latest seen: %s)", who, describe(a), describe(r))
			}
		}
	}
	ids := make([]string, 0, concIDs)
	for i := range concIDs {
		ids = append(ids, fmt.Sprint("id", i))
	}
	for id, want := range mustGet(t, s, "items", ids...) {
		if r := got[id]; r.Rev != want.Rev || !sameContent(r, want) {
			t.Fatalf("%s: latest of %q is %s, stored %s", who, id, describe(r), describe(want))
		}
	}
}
