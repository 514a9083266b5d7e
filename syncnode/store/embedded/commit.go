package embedded

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/internal/check"
)

// request is one Commit call waiting for the commit loop.
type request struct {
	collection string
	writes     []store.Write
	result     store.CommitResult
	done       chan error
}

// Commit applies the batch in one transaction (shared with concurrent Commit calls)
// and returns after it is fsynced. Once queued, a commit is carried out even if ctx
// ends meanwhile, and Commit waits for it: its outcome is always known.
func (s *Store) Commit(ctx context.Context, collection string, writes []store.Write) (store.CommitResult, error) {
	if err := s.precheck(ctx, collection); err != nil {
		return store.CommitResult{}, err
	}
	if err := check.Writes(writes); err != nil {
		return store.CommitResult{}, err
	}
	if len(writes) == 0 {
		return store.CommitResult{Committed: map[string]store.Record{}}, nil
	}
	req := &request{collection: collection, writes: writes, done: make(chan error, 1)}
	if err := s.enqueue(ctx, req); err != nil {
		return store.CommitResult{}, err
	}
	if err := <-req.done; err != nil {
		return store.CommitResult{}, fmt.Errorf("embedded store: commit to %s: %w", collection, err)
	}
	return req.result, nil
}

// enqueue hands req to the commit loop unless the store is closed or ctx ends first.
func (s *Store) enqueue(ctx context.Context, req *request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.reqs <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded store: commit to %s: %w", req.collection, ctx.Err())
	}
}

// commitLoop is the group committer: it takes one request, adds every request that
// is already waiting (up to maxGroup), and commits them in one transaction. While
// that transaction fsyncs, new requests queue up for the next group, so under load
// many commits share one fsync and an idle store adds no delay.
func (s *Store) commitLoop() {
	defer close(s.done)
	for req := range s.reqs {
		group := []*request{req}
	drain:
		for len(group) < maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commitGroup(group)
	}
}

// commitGroup runs group in one transaction. If that fails and the group has more
// than one request, each is retried alone, so one bad request fails only itself.
func (s *Store) commitGroup(group []*request) {
	if s.groupHook != nil {
		s.groupHook(len(group))
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range group {
			if err := apply(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, r := range group {
			s.commitGroup([]*request{r})
		}
		return
	}
	for _, r := range group {
		r.done <- err
	}
}

// apply performs one request's compare-and-swap writes inside tx, filling r.result.
func apply(tx *bolt.Tx, r *request) error {
	r.result = store.CommitResult{Committed: make(map[string]store.Record, len(r.writes))}
	docs, err := tx.CreateBucketIfNotExists(docsBucket(r.collection))
	if err != nil {
		return fmt.Errorf("create documents bucket: %w", err)
	}
	feed, err := tx.CreateBucketIfNotExists(feedBucket(r.collection))
	if err != nil {
		return fmt.Errorf("create feed bucket: %w", err)
	}
	for _, w := range r.writes {
		rec, ok, err := put(docs, feed, w)
		if err != nil {
			return err
		}
		if !ok {
			r.result.Conflicts = append(r.result.Conflicts, w.Record.ID)
			continue
		}
		r.result.Committed[rec.ID] = rec
	}
	return nil
}

// put writes w if the stored rev is still w.ExpectRev, giving it the collection's
// next seq and moving its feed index entry there; ok is false on a conflict.
func put(docs, feed *bolt.Bucket, w store.Write) (rec store.Record, ok bool, err error) {
	id := []byte(w.Record.ID)
	var old store.Record
	if v := docs.Get(id); v != nil {
		if old, err = decodeRecord(w.Record.ID, v); err != nil {
			return rec, false, err
		}
	}
	if old.Rev != w.ExpectRev {
		return rec, false, nil
	}
	seq, err := feed.NextSequence()
	if err != nil {
		return rec, false, fmt.Errorf("next seq: %w", err)
	}
	if old.Rev != 0 {
		if err := feed.Delete(seqKey(old.Seq)); err != nil {
			return rec, false, fmt.Errorf("unindex seq %d: %w", old.Seq, err)
		}
	}
	rec = check.Committed(w, seq, old.Rev+1)
	if err := feed.Put(seqKey(seq), id); err != nil {
		return rec, false, fmt.Errorf("index seq %d: %w", seq, err)
	}
	if err := docs.Put(id, encodeRecord(rec)); err != nil {
		return rec, false, fmt.Errorf("put document %q: %w", w.Record.ID, err)
	}
	return rec, true, nil
}
