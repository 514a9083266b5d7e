package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// sequencerDoc is the per-collection sequencer: last is the highest seq ever
// allocated; pending holds every allocation not yet released, keyed by pendingKey.
type sequencerDoc struct {
	ID      string                  `bson:"_id"`
	Last    int64                   `bson:"last"`
	Pending map[string]pendingEntry `bson:"pending"`
}

// pendingEntry is one allocation in flight: the N seqs from the first, which is in
// its key, written at the moment the range is allocated. It names no documents:
// abandoning it seals the seqs themselves (recover.go), so it stays a few bytes
// however large the round (every allocation rewrites the sequencer document).
type pendingEntry struct {
	N    int64     `bson:"n"`
	Node string    `bson:"node"`
	At   time.Time `bson:"at"`
}

// last is the last seq of the entry's range.
func (p pending) last() int64 { return p.first + p.N - 1 }

// pending is a decoded pending entry with its first seq.
type pending struct {
	first int64
	pendingEntry
}

// pendingKey is the field name of the entry whose range starts at first.
func pendingKey(first int64) string { return "s" + strconv.FormatInt(first, 10) }

// parsePendingKey reverses pendingKey.
func parsePendingKey(k string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimPrefix(k, "s"), 10, 64)
	if err != nil || !strings.HasPrefix(k, "s") || v <= 0 {
		return 0, fmt.Errorf("mongostore: bad pending key %q in the sequencer", k)
	}
	return v, nil
}

// allocate reserves n consecutive seqs and returns the first. In the
// same atomic update that advances last, it records the range as pending, so a seq
// is never allocated without being visible as pending; the same update releases the
// pending entry starting at releasing (0: none), whose writes have all completed.
// The update is a compare-and-swap on last; one allocation per collection runs at a
// time in this process (the group commit's leader), so only other processes can make
// it retry, and a retry records that another process allocates (sharedSince).
func (s *Store) allocate(ctx context.Context, collection string, n, releasing int64) (int64, error) {
	cs := s.coll(collection)
	cs.allocMu.Lock()
	defer cs.allocMu.Unlock()
	entry := pendingEntry{N: n, Node: s.node, At: s.now().Truncate(time.Millisecond)}
	for {
		first := cs.last + 1
		filter := bson.D{{Key: "_id", Value: collection}, {Key: "last", Value: cs.last}}
		update := bson.D{{Key: "$set", Value: bson.D{
			{Key: "last", Value: cs.last + n},
			{Key: "pending." + pendingKey(first), Value: entry},
		}}}
		if releasing > 0 {
			update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "pending." + pendingKey(releasing), Value: ""}}})
		}
		res, err := s.sequencer().UpdateOne(ctx, filter, update)
		if err != nil {
			return 0, mapErr("allocate seqs in "+collection, err)
		}
		if res.MatchedCount == 1 {
			cs.last += n
			return first, nil
		}
		if cs.lastKnown {
			cs.sharedAt.Store(s.now().UnixNano())
		}
		if cs.last, err = s.readLast(ctx, collection); err != nil {
			return 0, err
		}
		cs.lastKnown = true
	}
}

// readLast reads the sequencer's last allocated seq, creating the sequencer if needed.
func (s *Store) readLast(ctx context.Context, collection string) (int64, error) {
	var doc sequencerDoc
	err := s.sequencer().FindOne(ctx, bson.D{{Key: "_id", Value: collection}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		init := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "last", Value: int64(0)}, {Key: "pending", Value: bson.D{}}}}}
		_, err = s.sequencer().UpdateOne(ctx, bson.D{{Key: "_id", Value: collection}}, init, options.UpdateOne().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) {
			err = nil // another process created it at the same moment
		}
		return 0, mapErr("create the sequencer of "+collection, err)
	}
	if err != nil {
		return 0, mapErr("read the sequencer of "+collection, err)
	}
	return doc.Last, nil
}

// release removes the pending entry starting at first, if it is still there (an
// abandoner may have removed it, after sealing its seqs: see recover.go).
func (s *Store) release(ctx context.Context, collection string, first int64) error {
	key := "pending." + pendingKey(first)
	filter := bson.D{{Key: "_id", Value: collection}, {Key: key, Value: bson.D{{Key: "$exists", Value: true}}}}
	update := bson.D{{Key: "$unset", Value: bson.D{{Key: key, Value: ""}}}}
	_, err := s.sequencer().UpdateOne(ctx, filter, update)
	return mapErr(fmt.Sprintf("release seq %d in %s", first, collection), err)
}

// watermark reads the sequencer once and returns W: every seq <= W is settled (its
// write happened and is visible, or will never happen), the pending entries older
// than the lease. An entry holds W below its first seq, or, for an allocation of
// this process, below the first seq not yet known written (settled.go). See
// docs/change-feed.md.
func (s *Store) watermark(ctx context.Context, collection string) (w int64, stale []pending, err error) {
	var doc sequencerDoc
	err = s.feedDB.Collection(sequencerCollection).FindOne(ctx, bson.D{{Key: "_id", Value: collection}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, mapErr("read the watermark of "+collection, err)
	}
	w = doc.Last
	cs := s.coll(collection)
	deadline := s.now().Add(-s.lease)
	for k, e := range doc.Pending {
		first, err := parsePendingKey(k)
		if err != nil {
			return 0, nil, err
		}
		w = min(w, s.settledBelow(cs, first))
		if e.At.Before(deadline) {
			stale = append(stale, pending{first: first, pendingEntry: e})
		}
	}
	return w, stale, nil
}

// settledBelow is how far the pending allocation from first lets W go: first-1, or
// further if it is this process's and its writes are known done that far.
func (s *Store) settledBelow(cs *collState, first int64) int64 {
	if s.settleLocally {
		if upTo, ok := cs.settled.settledUpTo(first); ok {
			return upTo
		}
	}
	return first - 1
}
