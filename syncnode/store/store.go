package store

import (
	"context"
	"errors"
	"time"
)

// Record is one document as stored.
type Record struct {
	// ID is the document id, unique within its collection.
	ID string
	// State is the crdt encoding of the document's full CRDT state.
	State []byte
	// Doc is the materialised JSON document ("null" when deleted).
	Doc []byte
	// Version is the document's opaque version (crdt.VersionVector.VersionString).
	Version string
	// Deleted reports whether the document is deleted (Doc is null).
	Deleted bool
	// Seq is the record's position in its collection's change feed; set by the store
	// on commit, ascending with commit order within a collection's feed.
	Seq uint64
	// Rev is the store's compare-and-swap token: 0 means "not stored". It is at least
	// 1 once stored and grows with every write of the document; stores choose the
	// steps (the embedded store counts writes, the MongoDB store uses the seq).
	Rev int64
}

// Write asks the store to replace one document.
type Write struct {
	// Record is the new content; Seq and Rev are ignored and assigned by the store.
	Record Record
	// ExpectRev is the Rev read before merging: the write only succeeds if the stored
	// document still has it (0: the document must not exist yet).
	ExpectRev int64
}

// CommitResult says what happened to each write of a Commit call.
type CommitResult struct {
	// Committed maps document id to the record as committed (with Seq and Rev).
	Committed map[string]Record
	// Conflicts lists ids whose ExpectRev no longer matched; nothing was written for
	// them and the caller re-reads, re-merges and retries.
	Conflicts []string
}

// Page is one page of a collection's change feed.
type Page struct {
	// Records are the changed documents, ascending by Seq, latest state only.
	Records []Record
	// Next is the checkpoint to pass to the next Changes call.
	Next uint64
	// HasMore reports whether more records are already available after Next.
	HasMore bool
}

// Store persists documents and serves the change feed of each collection.
//
// The feed guarantee (DESIGN.md invariant 3): calling Changes repeatedly from each
// returned Next never misses a committed write, whichever node or process committed
// it and in whatever order concurrent commits finished. Duplicates are allowed.
type Store interface {
	// Get returns the stored records of the given ids; missing ids are absent.
	Get(ctx context.Context, collection string, ids []string) (map[string]Record, error)
	// Commit writes the batch durably (per the configured write concern) before it
	// returns. Writes for distinct ids are independent: each commits or conflicts.
	// An id may appear only once per batch. Once Commit returns, Changes and Head on
	// the same Store include its writes; other processes sharing the database see
	// them a little later (the MongoDB store says when: docs/change-feed.md).
	Commit(ctx context.Context, collection string, writes []Write) (CommitResult, error)
	// Changes returns records committed after checkpoint `after` (0: from the start),
	// at most limit of them (limit <= 0: the store's default page size).
	Changes(ctx context.Context, collection string, after uint64, limit int) (Page, error)
	// Head returns the feed's current end: Changes(Head()) returns no record committed
	// before the call, and misses none committed after it. A live stream that does not
	// want the backlog starts there.
	Head(ctx context.Context, collection string) (uint64, error)
	// Ping checks that the store is reachable (readiness).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close(ctx context.Context) error
}

// Rewriter is implemented by stores that can replace a document's state without a
// new feed position: compaction's writes, which change the state and version but not
// the materialised document, so clients need not pull them again. Both stores
// implement it.
type Rewriter interface {
	// Rewrite replaces each write's state if the stored rev is still ExpectRev,
	// keeping the document's seq; the others are conflicts (a push got there first).
	// Committed records carry their (unchanged) seq and their new rev.
	Rewrite(ctx context.Context, collection string, writes []Write) (CommitResult, error)
}

// ErrUnavailable wraps errors where the store could not be reached or did not answer
// in time; the caller may retry (HTTP 503). A failing Get, Changes or Ping changed
// no document's content. A failing Commit may have applied some of its writes before the failure:
// whichever stay applied reach the change feed like any other, the others can no
// longer apply, and a retry (re-read, re-merge, Commit) is safe because merging is
// idempotent.
var ErrUnavailable = errors.New("store unavailable")

// Clients records when each client was last seen, so that a node can tell a client
// inactive for longer than the retention to reset (410 client_reset_required).
// Both stores implement it.
type Clients interface {
	// LastSeen returns when client was last seen, and false if never.
	LastSeen(ctx context.Context, client string) (time.Time, bool, error)
	// Seen records that client was seen at (a later time than the stored one wins).
	Seen(ctx context.Context, client string, at time.Time) error
	// Acked records that client holds collection up to feed position seq (it pulled
	// from that checkpoint); a greater seq than the stored one wins. Compaction's
	// horizon is what every live client acknowledged (docs/compaction.md).
	Acked(ctx context.Context, client, collection string, seq uint64) error
	// ListClients calls fn for every client seen at or after since.
	ListClients(ctx context.Context, since time.Time, fn func(ClientRecord) error) error
}

// ClientRecord is one client of the registry.
type ClientRecord struct {
	// ID is the client's actor (auth.Principal.Actor).
	ID string
	// Seen is when it was last seen.
	Seen time.Time
	// Acked maps a collection to the feed position the client acknowledged.
	Acked map[string]uint64
}

// BlindWriter is implemented by stores whose reads cost more than a failed insert.
// When BlindInserts reports true, the merge engine writes documents it has no reason
// to think exist without reading them first, as creations (ExpectRev 0); those that
// do exist come back as conflicts and are read then (syncnode/merge/blind.go).
type BlindWriter interface {
	BlindInserts() bool
}

// Within returns p cut to records whose documents add up to about maxBytes (at
// least one record, whatever its size): a cut page ends at its last record's seq
// and has more. maxBytes <= 0 leaves p as it is.
func (p Page) Within(maxBytes int) Page {
	if maxBytes <= 0 {
		return p
	}
	size := 0
	for i, r := range p.Records {
		size += r.Weight()
		if size > maxBytes && i > 0 {
			return Page{Records: p.Records[:i], Next: p.Records[i-1].Seq, HasMore: true}
		}
	}
	return p
}

// Weight is what r counts against a page's byte budget: its id, document and
// version, and a fixed allowance for the encoding around them.
func (r Record) Weight() int { return len(r.ID) + len(r.Doc) + len(r.Version) + 64 }
