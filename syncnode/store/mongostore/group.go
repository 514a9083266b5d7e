package mongostore

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// Group commit. Concurrent Commit calls on one collection in one process share
// allocations: the first caller to find no commit running starts a leader goroutine,
// which takes every request queued (up to maxChunk writes, no id twice) into one
// bulk write per round, and rounds into allocations (leader.go). When the queue is
// empty the leader releases its allocation and ends.
//
// A caller's Commit returns once a Changes call on this Store sees its writes (and,
// for the last round before the queue empties, once any process's does), not
// later: its client can prepare its next push while the next round is written.

// commitReq is one caller's chunk waiting for a group commit.
type commitReq struct {
	writes  []store.Write
	encoded []bson.Raw // newDoc of each new document, nil for updates
	res     store.CommitResult
	err     error
	done    chan struct{}
}

// committer queues one collection's commit requests in one process.
type committer struct {
	mu      sync.Mutex
	queue   []*commitReq
	leading bool
}

// submit commits writes (at most maxChunk, distinct ids) as part of a group and
// returns its outcome.
func (s *Store) submit(ctx context.Context, collection string, writes []store.Write) (store.CommitResult, error) {
	c := &s.coll(collection).committer
	req := &commitReq{writes: writes, encoded: make([]bson.Raw, len(writes)), done: make(chan struct{})}
	for i, w := range writes {
		if w.ExpectRev == 0 {
			req.encoded[i] = newDoc(w)
		}
	}
	c.mu.Lock()
	c.queue = append(c.queue, req)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if lead {
		// The leader runs on its own goroutine, not the caller's: under steady load it
		// keeps leading, and no caller should wait for rounds after its own.
		go s.lead(context.WithoutCancel(ctx), collection, c)
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-ctx.Done():
		// The group carries on without this caller: its writes may still apply, as
		// the Store contract allows for a failed Commit.
		return store.CommitResult{}, mapErr("commit to "+collection, ctx.Err())
	}
}

// take removes the next group from the queue: requests in order while they fit in
// maxChunk writes and repeat no id already taken.
func (c *committer) take() []*commitReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	var group []*commitReq
	ids := map[string]bool{}
	n := 0
	rest := c.queue[:0]
	for _, req := range c.queue {
		if (n > 0 && n+len(req.writes) > maxChunk) || repeats(ids, req.writes) {
			rest = append(rest, req)
			continue
		}
		for _, w := range req.writes {
			ids[w.Record.ID] = true
		}
		n += len(req.writes)
		group = append(group, req)
	}
	clear(c.queue[len(rest):])
	c.queue = rest
	return group
}

func repeats(ids map[string]bool, writes []store.Write) bool {
	for _, w := range writes {
		if ids[w.Record.ID] {
			return true
		}
	}
	return false
}

// stepDown ends leadership if nothing is queued, and reports whether it did.
func (c *committer) stepDown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 {
		return false
	}
	c.leading = false
	return true
}

// round is one allocation shared by a group of requests.
type round struct {
	reqs    []*commitReq
	writes  []store.Write
	encoded []bson.Raw
	first   int64
	res     store.CommitResult
}

func newRound(group []*commitReq) *round {
	r := &round{reqs: group}
	for _, req := range group {
		r.writes = append(r.writes, req.writes...)
		r.encoded = append(r.encoded, req.encoded...)
	}
	return r
}

// ids lists the round's document ids in seq order (for the test hooks).
func (r *round) ids() []string {
	ids := make([]string, len(r.writes))
	for i, w := range r.writes {
		ids[i] = w.Record.ID
	}
	return ids
}

// finish hands each request its share of the round's result.
func (r *round) finish() {
	conflicts := make(map[string]bool, len(r.res.Conflicts))
	for _, id := range r.res.Conflicts {
		conflicts[id] = true
	}
	for _, req := range r.reqs {
		req.res = store.CommitResult{Committed: make(map[string]store.Record, len(req.writes))}
		for _, w := range req.writes {
			if conflicts[w.Record.ID] {
				req.res.Conflicts = append(req.res.Conflicts, w.Record.ID)
			} else {
				req.res.Committed[w.Record.ID] = r.res.Committed[w.Record.ID]
			}
		}
		close(req.done)
	}
}

func (r *round) fail(err error) {
	for _, req := range r.reqs {
		req.err = err
		close(req.done)
	}
}
