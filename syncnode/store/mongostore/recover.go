package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Abandonment (docs/change-feed.md has the proof). The rule every write of a seq
// obeys: it lands while its allocation is still pending, so before any reader's
// watermark can reach it. A commit obeys it by releasing only after its writes
// completed; when a reader removes the allocation of a writer that seems dead, it
// first makes every write of that allocation impossible ("fences" it), so none can
// land afterwards. A write that did land, landed while the allocation was pending,
// at its own seq, which no reader has passed yet: it is delivered normally.
//
// Fencing works because a commit's compare-and-swap is on a rev read (with majority
// read concern) before its allocation: once the fence's own compare-and-swap has
// raised the rev (durably, with the configured majority write concern), the stored
// rev is above the writer's expected one for good. The fence never writes a seq, so
// it can be retried on fresh reads, by any number of readers at once.

// abandon takes over the pending entry p, whose writer is presumed dead or stuck:
// it fences each of p's documents, then removes p's entry (unless its writer has
// released it meanwhile). last is a seq at or above p's whole range. If abandon
// fails half-way, p stays pending and is abandoned again later.
func (s *Store) abandon(ctx context.Context, collection string, p pending, last int64) error {
	for i, id := range p.IDs {
		if err := s.fence(ctx, collection, id, p.first+int64(i), last); err != nil {
			return err
		}
	}
	_, err := s.release(ctx, collection, p.first)
	return err
}

// fence makes the late write of document id, which the abandoned allocation gave
// seq lateSeq, impossible from now on:
//
//   - a stored document gets rev+1, by compare-and-swap on the rev just read (no
//     other field changes): the late compare-and-swap on its older rev then fails;
//   - a missing document gets a fence {rev: 0, seq: 0, fence: last}, and a fence
//     below lateSeq is raised to last. The late insert fails on the fence's _id, and
//     a fence may only be taken over by a writer whose seq is above its value
//     (casModel), that is, one allocated after the fence was set. Fences have seq 0,
//     so they never appear in the feed.
//
// It retries until one of its own updates wins (or finds a fence high enough).
func (s *Store) fence(ctx context.Context, collection, id string, lateSeq, last int64) error {
	for {
		d, found, err := s.readOne(ctx, collection, id)
		if err != nil {
			return err
		}
		if h := s.hooks.afterFenceRead; h != nil {
			h(collection, id)
		}
		var ok bool
		switch {
		case !found:
			ok, err = s.insertFence(ctx, collection, id, last)
		case d.Rev == 0 && d.Fence >= lateSeq:
			return nil
		case d.Rev == 0:
			ok, err = s.cas(ctx, collection, d, bson.D{{Key: "fence", Value: last}})
		default:
			ok, err = s.cas(ctx, collection, d, bson.D{{Key: "rev", Value: d.Rev + 1}})
		}
		if err != nil || ok {
			return err
		}
	}
}

// cas applies set to document d if its rev (and, for a fence, its fence value) is
// still as read.
func (s *Store) cas(ctx context.Context, collection string, d docBSON, set bson.D) (bool, error) {
	filter := bson.D{{Key: "_id", Value: d.ID}, {Key: "rev", Value: d.Rev}}
	if d.Rev == 0 {
		filter = append(filter, bson.E{Key: "fence", Value: d.Fence})
	}
	res, err := s.docs(collection).UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, mapErr(fmt.Sprintf("fence %q in %s", d.ID, collection), err)
	}
	return res.MatchedCount == 1, nil
}

// insertFence creates the fence of a missing document; it reports false if the
// document was created meanwhile.
func (s *Store) insertFence(ctx context.Context, collection, id string, last int64) (bool, error) {
	fence := bson.D{{Key: "_id", Value: id}, {Key: "rev", Value: int64(0)}, {Key: "seq", Value: int64(0)}, {Key: "fence", Value: last}}
	_, err := s.docs(collection).InsertOne(ctx, fence)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(fmt.Sprintf("fence %q in %s", id, collection), err)
	}
	return true, nil
}

// readOne reads the rev and fence of document id.
func (s *Store) readOne(ctx context.Context, collection, id string) (docBSON, bool, error) {
	var d docBSON
	proj := bson.D{{Key: "rev", Value: 1}, {Key: "fence", Value: 1}}
	err := s.docs(collection).FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(proj)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	if err != nil {
		return d, false, mapErr(fmt.Sprintf("read %q in %s", id, collection), err)
	}
	return d, true, nil
}

// abandonStale abandons the given stale entries, skipping any this process is
// already abandoning. last is the sequencer's last seq as read with them.
func (s *Store) abandonStale(ctx context.Context, collection string, stale []pending, last int64) error {
	for _, p := range stale {
		key := collection + "/" + pendingKey(p.first)
		s.mu.Lock()
		busy := s.recovering[key]
		s.recovering[key] = true
		s.mu.Unlock()
		if busy {
			continue
		}
		err := s.abandon(ctx, collection, p, last)
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
