package mongostore

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// The no-loss test: several nodes (Stores with their own clients) on one server
// commit concurrently to overlapping ids, with delays injected between allocating
// and writing; one node dies mid-commit (allocated and never released: some of its
// commits die before writing, some after); several readers pull continuously from
// their checkpoints with a short lease, so they abandon the dead node's allocations
// and, now and then, a live but slow one; one more reader pulls through each writer
// node (whose own reads count its acknowledged rounds as settled before release).
// At the end every reader must hold the stored state of every document and every
// acknowledged commit.

const (
	chaosWriters   = 3 // live writer nodes, plus one that dies
	chaosWorkers   = 2 // goroutines per writer node
	chaosRounds    = 15
	chaosIDs       = 8
	chaosReaders   = 3
	chaosLease     = 250 * time.Millisecond
	chaosSlowEvery = 10 // every n-th commit of a live node stalls past the lease
)

func TestNoLossAcrossNodes(t *testing.T) {
	srv := ferrettest.Start(t)
	var ackMu sync.Mutex
	var acked []store.Record
	ack := func(rs map[string]store.Record) {
		ackMu.Lock()
		defer ackMu.Unlock()
		acked = append(acked, records(rs)...)
	}
	stop := make(chan struct{})
	readers, readersDone := startReaders(t, srv, stop)
	var writers sync.WaitGroup
	var nodes []*Store
	for n := range chaosWriters + 1 {
		s := newNode(t, srv, fmt.Sprint("writer", n), chaosLease)
		nodes = append(nodes, s)
		dying := n == chaosWriters
		if dying {
			installDeath(s)
		} else {
			installDelays(s, uint64(n))
		}
		for g := range chaosWorkers {
			writers.Add(1)
			go func() {
				defer writers.Done()
				runWorker(t, s, rand.New(rand.NewPCG(uint64(n), uint64(g))), dying, ack)
			}()
		}
	}
	local, localDone := startLocalReaders(t, nodes, stop)
	writers.Wait()
	close(stop)
	readersDone.Wait() // the dead node's leftovers are abandoned now
	localDone.Wait()
	for _, rd := range local {
		rd.drain(t)
	}
	if !t.Failed() {
		checkChaos(t, append(readers, local...), acked)
	}
}

// startLocalReaders starts a reader on each of nodes, pulling until stop is closed.
func startLocalReaders(t *testing.T, nodes []*Store, stop <-chan struct{}) ([]*reader, *sync.WaitGroup) {
	var wg sync.WaitGroup
	readers := make([]*reader, len(nodes))
	for i, s := range nodes {
		readers[i] = newReader(realFeed, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pullUntil(t, readers[i], stop, func() {})
		}()
	}
	return readers, &wg
}

// pullUntil pulls through rd until stop is closed, then runs atStop.
func pullUntil(t *testing.T, rd *reader, stop <-chan struct{}, atStop func()) {
	for {
		select {
		case <-stop:
			atStop()
			return
		default:
		}
		if rd.pull(t) == 0 {
			time.Sleep(time.Millisecond) // pace an idle reader; not a correctness bound
		}
	}
}

// checkChaos asserts that every reader holds everything, that nothing is left
// pending and that the dead node's allocations were abandoned.
func checkChaos(t *testing.T, readers []*reader, acked []store.Record) {
	for i, rd := range readers {
		if missed := lost(t, rd.s, acked, rd.seen); len(missed) != 0 {
			t.Errorf("reader %d lost %d changes: %v", i, len(missed), missed)
		}
	}
	if pend := pendingEntries(t, readers[0].s); len(pend) != 0 {
		t.Errorf("allocations still pending at the end: %v", pend)
	}
	var abandoned int64
	for _, rd := range readers {
		abandoned += rd.s.abandoned.Load()
	}
	if abandoned == 0 {
		t.Error("no reader abandoned the dead node's allocations")
	}
	t.Logf("%d acknowledged commits delivered to %d readers; %d allocations abandoned", len(acked), len(readers), abandoned)
}

// startReaders starts reader nodes pulling until stop is closed; each then moves its
// clock past every lease (so the dead node's leftovers are abandoned) and drains.
func startReaders(t *testing.T, srv ferrettest.Server, stop <-chan struct{}) ([]*reader, *sync.WaitGroup) {
	var wg sync.WaitGroup
	readers := make([]*reader, chaosReaders)
	for i := range readers {
		s := newNode(t, srv, fmt.Sprint("reader", i), chaosLease)
		var skew atomic.Int64
		s.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		readers[i] = newReader(realFeed, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pullUntil(t, readers[i], stop, func() {
				skew.Store(int64(time.Hour))
				readers[i].drain(t)
			})
		}()
	}
	return readers, &wg
}

// installDelays injects a short random delay between allocating and writing, and
// every chaosSlowEvery-th commit a stall past the lease (readers abandon it).
func installDelays(s *Store, seed uint64) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 99))
	var n atomic.Int64
	s.hooks.afterAlloc = func(string, int64, []string) error {
		mu.Lock()
		d := time.Duration(rng.IntN(2000)) * time.Microsecond
		mu.Unlock()
		if n.Add(1)%chaosSlowEvery == 0 {
			d = 2 * chaosLease
		}
		time.Sleep(d)
		return nil
	}
}

// installDeath makes s die at its 6th allocation (before writing) and 7th (after
// writing, before releasing); every later commit dies right after allocating.
func installDeath(s *Store) {
	var n atomic.Int64
	var afterWrite sync.Map // first seq -> die before release
	s.hooks.afterAlloc = func(_ string, first int64, _ []string) error {
		switch k := n.Add(1); {
		case k == 6 || k > 7:
			return errDied
		case k == 7:
			afterWrite.Store(first, true)
		}
		return nil
	}
	s.hooks.beforeRelease = func(_ string, first int64, _ []string) error {
		if _, ok := afterWrite.Load(first); ok {
			return errDied
		}
		return nil
	}
}

// runWorker commits chaosRounds rounds of one or two overlapping ids, retrying
// conflicts; a dying node's worker stops at its death.
func runWorker(t *testing.T, s *Store, rng *rand.Rand, dying bool, ack func(map[string]store.Record)) {
	for round := range chaosRounds {
		ids := []string{fmt.Sprint("id", rng.IntN(chaosIDs))}
		if extra := fmt.Sprint("id", rng.IntN(chaosIDs)); rng.IntN(3) == 0 && extra != ids[0] {
			ids = append(ids, extra)
		}
		for attempt := 0; len(ids) > 0; attempt++ {
			if attempt == 100 {
				t.Errorf("%s: round %d still conflicting after 100 attempts", s.node, round)
				return
			}
			cur, err := s.Get(testCtx(t), coll, ids)
			if err != nil {
				t.Error(err)
				return
			}
			ws := make([]store.Write, len(ids))
			for i, id := range ids {
				ws[i] = w(id, fmt.Sprintf("%s-r%d-a%d", s.node, round, attempt), cur[id].Rev)
			}
			res, err := s.Commit(testCtx(t), coll, ws)
			if dying && err == errDied {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			ack(res.Committed)
			ids = res.Conflicts
		}
	}
}
