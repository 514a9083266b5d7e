// Package storetest is the conformance suite every store.Store implementation
// passes: reads, compare-and-swap commits, the change feed's paging and checkpoints,
// durability across reopen, and the no-loss feed guarantee under concurrent commits.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/crdt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// Opener returns a Store for t. The first call in a test returns a store over empty
// storage reserved for that test; a later call in the same test (the suite closes
// the previous store first) must open the same storage again, as a restarted process
// would. The suite closes every store it opens.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"EmptyStore", testEmptyStore},
		{"InsertAndGet", testInsertAndGet},
		{"CompareAndSwap", testCompareAndSwap},
		{"MixedBatch", testMixedBatch},
		{"InsertRace", testInsertRace},
		{"InvalidCalls", testInvalidCalls},
		{"Deleted", testDeleted},
		{"SeqFollowsCommitOrder", testSeqFollowsCommitOrder},
		{"CollectionsAreSeparate", testCollectionsAreSeparate},
		{"ChangesPaging", testChangesPaging},
		{"CheckpointResume", testCheckpointResume},
		{"Reopen", testReopen},
		{"Head", testHead},
		{"ConcurrentNoLoss", testConcurrentNoLoss},
		{"Clients", testClients},
		{"Rewrite", testRewrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// ctxFor returns a context that ends with the test (and at most after two minutes,
// so that a hung store fails instead of stalling the run).
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openStore opens a store and closes it when t ends.
func openStore(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// rec builds a record with content derived from tag.
func rec(id, tag string) store.Record { return Record(id, tag) }

// Record returns the record of document id holding {"tag": tag}: a real CRDT state
// with the JSON and version derived from it, as the merge engine writes them (a
// store may keep only the state and derive the rest).
func Record(id, tag string) store.Record {
	return recordOf(id, &crdt.Mutation{Set: []crdt.PathValue{{Path: "tag", Value: json.RawMessage(strconv.Quote(tag))}}})
}

// Tombstone returns the record of document id, deleted.
func Tombstone(id string) store.Record { return recordOf(id, &crdt.Mutation{Delete: true}) }

func recordOf(id string, m *crdt.Mutation) store.Record {
	doc := crdt.NewDoc(id)
	m.ID, m.Client, m.Mid, m.Clock = id, "storetest", 1, crdt.HLC{Wall: 1, Actor: "storetest"}
	if _, err := doc.Apply(m, nil); err != nil {
		panic(fmt.Sprintf("storetest: build %s: %v", id, err))
	}
	return store.NewRecord(doc)
}

// write builds a Write of rec(id, tag) expecting rev.
func write(id, tag string, expect int64) store.Write {
	return store.Write{Record: rec(id, tag), ExpectRev: expect}
}

// mustCommit commits and fails the test on error.
func mustCommit(t *testing.T, s store.Store, coll string, ws ...store.Write) store.CommitResult {
	t.Helper()
	res, err := s.Commit(ctxFor(t), coll, ws)
	if err != nil {
		t.Fatalf("Commit(%s): %v", coll, err)
	}
	return res
}

// mustGet reads ids and fails the test on error.
func mustGet(t *testing.T, s store.Store, coll string, ids ...string) map[string]store.Record {
	t.Helper()
	got, err := s.Get(ctxFor(t), coll, ids)
	if err != nil {
		t.Fatalf("Get(%s, %v): %v", coll, ids, err)
	}
	return got
}

// sameContent reports whether a and b hold the same document content.
func sameContent(a, b store.Record) bool {
	return a.ID == b.ID && bytes.Equal(a.State, b.State) && bytes.Equal(a.Doc, b.Doc) &&
		a.Version == b.Version && a.Deleted == b.Deleted
}

// assertRecord checks got against want's content and the given rev and seq.
func assertRecord(t *testing.T, got, want store.Record) {
	t.Helper()
	if !sameContent(got, want) || got.Rev != want.Rev || got.Seq != want.Seq {
		t.Fatalf("record %q = %s, want %s", want.ID, describe(got), describe(want))
	}
}

func describe(r store.Record) string {
	return fmt.Sprintf("{id=%q rev=%d seq=%d del=%v ver=%q state=%q doc=%s}",
		r.ID, r.Rev, r.Seq, r.Deleted, r.Version, r.State, r.Doc)
}

// readAll pulls the feed from after until it reports nothing more, with page size
// limit, checking each page's order; it returns every record and the final checkpoint.
func readAll(t *testing.T, s store.Store, coll string, after uint64, limit int) ([]store.Record, uint64) {
	t.Helper()
	var all []store.Record
	for range 100000 {
		p, err := s.Changes(ctxFor(t), coll, after, limit)
		if err != nil {
			t.Fatalf("Changes(%s, %d, %d): %v", coll, after, limit, err)
		}
		checkPage(t, p, after, limit)
		all = append(all, p.Records...)
		after = p.Next
		if !p.HasMore {
			return all, after
		}
	}
	t.Fatal("readAll: the feed never ended")
	return nil, 0
}

// checkPage checks a page's own consistency: ascending seqs above after, within
// limit, Next not behind after nor behind the last record.
func checkPage(t *testing.T, p store.Page, after uint64, limit int) {
	t.Helper()
	if len(p.Records) > limit {
		t.Fatalf("page of %d records for limit %d", len(p.Records), limit)
	}
	last := after
	for _, r := range p.Records {
		if r.Seq <= last {
			t.Fatalf("page after %d: seq %d follows %d", after, r.Seq, last)
		}
		last = r.Seq
	}
	if p.Next < last {
		t.Fatalf("page after %d: Next %d is behind its last record %d", after, p.Next, last)
	}
	if p.HasMore && len(p.Records) == 0 {
		t.Fatalf("page after %d: HasMore with no records", after)
	}
}
