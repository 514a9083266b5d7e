package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// This file holds the pieces shared by the feed tests: nodes, the feed under test
// and two naive feeds, readers that pull from their checkpoints, and the loss checker.

const coll = "items"

// errDied is what a test hook returns to make its node "die" at that point.
var errDied = errors.New("node died (test)")

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newNode opens a Store with its own client, as a separate process would have.
func newNode(t *testing.T, srv ferrettest.Server, name string, lease time.Duration) *Store {
	s := openOn(t, srv, Config{NodeID: name, Lease: lease})
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// feed pulls one page from checkpoint cp and returns it with the next checkpoint.
type feed func(t *testing.T, s *Store, cp int64) ([]store.Record, int64)

// realFeed is Store.Changes.
func realFeed(t *testing.T, s *Store, cp int64) ([]store.Record, int64) {
	p, err := s.Changes(testCtx(t), coll, uint64(cp), 4)
	if err != nil {
		t.Fatalf("Changes(%d): %v", cp, err)
	}
	return p.Records, int64(p.Next)
}

// naiveUpdatedAtFeed is "GET /changes?updatedAfter=T": documents whose timestamp is
// above the checkpoint (milliseconds), the checkpoint being the highest one seen.
func naiveUpdatedAtFeed(t *testing.T, s *Store, cp int64) ([]store.Record, int64) {
	filter := bson.D{{Key: "at", Value: bson.D{{Key: "$gt", Value: time.UnixMilli(cp)}}}}
	docs := findDocs(t, s, filter, bson.D{{Key: "at", Value: 1}})
	recs := make([]store.Record, len(docs))
	for i, d := range docs {
		recs[i], cp = d.record(), max(cp, d.At.UnixMilli())
	}
	return recs, cp
}

// naiveCounterFeed trusts the global counter: everything up to the last allocated
// seq is assumed written, and the checkpoint jumps there.
func naiveCounterFeed(t *testing.T, s *Store, cp int64) ([]store.Record, int64) {
	var seqDoc sequencerDoc
	err := s.sequencer().FindOne(testCtx(t), bson.D{{Key: "_id", Value: coll}}).Decode(&seqDoc)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatal(err)
	}
	filter := bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: cp}, {Key: "$lte", Value: seqDoc.Last}}}}
	docs := findDocs(t, s, filter, bson.D{{Key: "seq", Value: 1}})
	recs := make([]store.Record, len(docs))
	for i, d := range docs {
		recs[i] = d.record()
	}
	return recs, max(cp, seqDoc.Last)
}

// timedDoc is a stored document with its "at" time, as the naive feeds read it.
type timedDoc struct {
	ID    string    `bson:"_id"`
	Rev   int64     `bson:"rev"`
	Seq   int64     `bson:"seq"`
	State []byte    `bson:"state"`
	At    time.Time `bson:"at"`
}

func (d timedDoc) record() store.Record {
	return store.Record{ID: d.ID, Rev: d.Rev, Seq: uint64(d.Seq), State: d.State}
}

func findDocs(t *testing.T, s *Store, filter, sort bson.D) []timedDoc {
	filter = append(filter, bson.E{Key: "rev", Value: bson.D{{Key: "$gte", Value: 1}}})
	cur, err := s.docs(coll).Find(testCtx(t), filter, options.Find().SetSort(sort))
	if err != nil {
		t.Fatal(err)
	}
	var docs []timedDoc
	if err := cur.All(testCtx(t), &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// reader pulls a feed from its checkpoint and keeps the latest record per id.
type reader struct {
	feed feed
	s    *Store
	cp   int64
	seen map[string]store.Record
}

func newReader(f feed, s *Store) *reader {
	return &reader{feed: f, s: s, seen: map[string]store.Record{}}
}

// pull fetches one page and returns how many records it held.
func (r *reader) pull(t *testing.T) int {
	recs, next := r.feed(t, r.s, r.cp)
	if next < r.cp {
		t.Fatalf("checkpoint went back from %d to %d", r.cp, next)
	}
	r.cp = next
	for _, rec := range recs {
		if old, ok := r.seen[rec.ID]; !ok || rec.Rev > old.Rev {
			r.seen[rec.ID] = rec
		}
	}
	return len(recs)
}

// drain pulls until a page comes back empty.
func (r *reader) drain(t *testing.T) {
	for r.pull(t) > 0 {
	}
}

// lost lists what the reader's records miss: acknowledged commits it has no record
// of at that rev or later, and stored documents whose latest content it lacks.
func lost(t *testing.T, s *Store, acked []store.Record, seen map[string]store.Record) []string {
	t.Helper()
	idSet := map[string]bool{}
	var out []string
	for _, a := range acked {
		idSet[a.ID] = true
		if seen[a.ID].Rev < a.Rev {
			out = append(out, fmt.Sprintf("acknowledged %s rev %d (seq %d) never delivered", a.ID, a.Rev, a.Seq))
		}
	}
	for id := range seen {
		idSet[id] = true
	}
	ids := make([]string, 0, len(idSet))
	for id := range idSet {
		ids = append(ids, id)
	}
	final, err := s.Get(testCtx(t), coll, ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, f := range final {
		if got := seen[id]; got.Rev > f.Rev || string(got.State) != string(f.State) {
			out = append(out, fmt.Sprintf("%s: stored %q (rev %d), latest delivered %q (rev %d)", id, f.State, f.Rev, got.State, got.Rev))
		}
	}
	sort.Strings(out)
	return out
}

// pendingEntries returns the sequencer's pending entries.
func pendingEntries(t *testing.T, s *Store) map[string]pendingEntry {
	var doc sequencerDoc
	if err := s.sequencer().FindOne(testCtx(t), bson.D{{Key: "_id", Value: coll}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Pending
}

// w builds a write of id with state tag on top of rev.
func w(id, tag string, rev int64) store.Write {
	return store.Write{Record: storetest.Record(id, tag), ExpectRev: rev}
}

func mustCommit(t *testing.T, s *Store, ws ...store.Write) store.CommitResult {
	t.Helper()
	res, err := s.Commit(testCtx(t), coll, ws)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func records(m map[string]store.Record) []store.Record {
	out := make([]store.Record, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

// fixedClock returns a clock that always says t0.
func fixedClock(t0 time.Time) func() time.Time { return func() time.Time { return t0 } }
