package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Abandonment (docs/change-feed.md has the proof). The rule every write of a seq
// obeys: it lands while its allocation is still pending, so before any reader's
// watermark can reach it. A commit obeys it by releasing only after its writes
// completed; when a reader removes the allocation of a writer that seems dead, it
// first makes every write of that allocation impossible ("seals" its seqs), so none
// can land afterwards. A write that did land, landed while the allocation was
// pending, at its own seq, which no reader has passed yet: it is delivered normally.
//
// Sealing works because seq is unique in a collection's documents (the index
// ensureIndexes creates) and every seq is handed to exactly one write: a seal is a
// placeholder document holding the seq, so the late write of that seq, an insert or
// an update, fails on the index. A seq already held was taken by its own write,
// which therefore landed. Seals write no document's state and take no seq of their
// own, so any number of readers can seal the same range at once.

// abandon takes over the pending entry p, whose writer is presumed dead or stuck (or
// is this process, whose writes failed with an error): it seals p's seqs, then
// removes p's entry (unless its writer has released it meanwhile). If abandon fails
// half-way, p stays pending and is abandoned again later.
func (s *Store) abandon(ctx context.Context, collection string, p pending) error {
	if h := s.hooks.beforeSeal; h != nil {
		h(collection, p.first)
	}
	if err := s.seal(ctx, collection, p.first, p.last()); err != nil {
		return err
	}
	return s.release(ctx, collection, p.first)
}

// seal inserts a seal for every seq from first to last, which were allocated but may
// not have been written. A seal refused as a duplicate is fine: its seq is held by
// the write it was allocated to, or by another reader's seal.
func (s *Store) seal(ctx context.Context, collection string, first, last int64) error {
	if last < first {
		return nil
	}
	seals := make([]bson.Raw, 0, last-first+1)
	for seq := first; seq <= last; seq++ {
		seals = append(seals, sealDoc(seq))
	}
	if _, err := s.insertDocs(ctx, collection, seals); err != nil {
		return fmt.Errorf("seal seqs %d to %d: %w", first, last, err)
	}
	return nil
}

// sealDoc is the seal of seq: {_id: seq, seq}. Its _id is a number, which no document
// id (a string) equals, and having no state keeps it out of the feed (feedRange).
func sealDoc(seq int64) bson.Raw {
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: seq}, {Key: "seq", Value: seq}})
	if err != nil {
		panic(fmt.Sprintf("mongostore: encode a seal: %v", err)) // two int64s cannot fail
	}
	return doc
}

// abandonStale abandons the given stale entries, skipping any this process is
// already abandoning.
func (s *Store) abandonStale(ctx context.Context, collection string, stale []pending) error {
	for _, p := range stale {
		key := collection + "/" + pendingKey(p.first)
		s.mu.Lock()
		busy := s.recovering[key]
		s.recovering[key] = true
		s.mu.Unlock()
		if busy {
			continue
		}
		err := s.abandon(ctx, collection, p)
		if err == nil {
			s.abandoned.Add(1)
		}
		s.mu.Lock()
		delete(s.recovering, key)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("abandon seqs from %d (node %s) in %s: %w", p.first, p.Node, collection, err)
		}
	}
	return nil
}
