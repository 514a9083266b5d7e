// Package mongostore is the production Store on MongoDB (and the wire-compatible
// FerretDB, Amazon DocumentDB and Azure Cosmos DB for MongoDB). It uses only
// single-document atomic updates, findOneAndUpdate-style compare-and-swap, unordered
// bulk writes, indexes and sorted finds: no transactions, change streams or update
// pipelines. Several processes may share one database concurrently.
//
// Collection C keeps its documents in the MongoDB collection "docs.C" as
// {_id, seq, state} and its sequencer in "_lattice_seq" as
// {_id: C, last, pending: {"s<first seq>": {n, node, at}}}. The change feed and
// the proof that it never loses a committed write are in docs/change-feed.md.
package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/internal/check"
)

// DefaultLease is how long a pending allocation may stay unreleased before a reader
// takes it over (see docs/change-feed.md, "Abandonment").
const DefaultLease = 10 * time.Second

// sequencerCollection holds one sequencer document per collection.
const sequencerCollection = "_lattice_seq"

// Config configures a Store.
type Config struct {
	// URI is the MongoDB connection string; ignored when Client is set.
	URI string
	// Client, when set, is used instead of connecting to URI; Close leaves it open.
	Client *mongo.Client
	// Database is the tenant's database name (required).
	Database string
	// NodeID names this process in pending allocations (diagnostics only);
	// default: host name, process id and a random suffix.
	NodeID string
	// Lease is how old a pending allocation must be before a reader abandons it
	// (default DefaultLease). Abandoning early is safe, only wasteful: it makes the
	// slow writer's commit report conflicts that its caller then retries.
	Lease time.Duration
	// WriteConcern for every write (default majority, which invariant 1 needs).
	WriteConcern *writeconcern.WriteConcern
	// ReadConcern for Get and the feed's reads (default majority). Anything weaker
	// voids the guarantees of docs/change-feed.md under failover.
	ReadConcern *readconcern.ReadConcern
}

// Store is a store.Store on one MongoDB database. It is safe for concurrent use.
type Store struct {
	client    *mongo.Client
	ownClient bool
	db        *mongo.Database // writes and plain reads
	feedDB    *mongo.Database // Get and feed reads (majority read concern)
	node      string
	lease     time.Duration
	now       func() time.Time
	// settleLocally: writes are acknowledged by a majority, so this process's own
	// feed reads may count its acknowledged writes as settled before their
	// allocation is released (settled.go).
	settleLocally bool

	writeConcernRaw bson.Raw // for commands sent with RunCommand (insert.go)

	mu         sync.Mutex
	colls      map[string]*collState
	recovering map[string]bool // pending entries this process is abandoning now

	abandoned atomic.Int64 // pending entries this process has abandoned

	hooks hooks
}

// collState is this process's state for one collection.
type collState struct {
	allocMu   sync.Mutex // one allocation at a time per collection and process
	last      int64      // last seq seen allocated: the guess for the next allocation
	lastKnown bool       // last was read or allocated (a miss then means another process)
	indexed   bool
	committer committer // queues concurrent commits into shared allocations
	settled   settledRecord
	lastUsed  int64        // seqs the leader used of its previous allocation (leader.go)
	sharedAt  atomic.Int64 // unix nanoseconds when another process was last seen allocating
}

// sharedSince reports whether another process was seen allocating after t.
func (cs *collState) sharedSince(t time.Time) bool { return cs.sharedAt.Load() > t.UnixNano() }

// hooks let tests stop a commit between its steps, as a paused or dying node would.
// A hook that returns an error ends the Commit with that error right there, leaving
// its allocation pending (a process that died at that point).
type hooks struct {
	afterAlloc    func(collection string, first int64, ids []string) error
	beforeRelease func(collection string, first int64, ids []string) error
	// beforeSeal runs when abandonment is about to seal the range from first.
	beforeSeal func(collection string, first int64)
}

var _ store.Store = (*Store)(nil)

// Open connects (unless cfg.Client is given), checks that the server answers and
// returns the Store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		return nil, errors.New("mongostore: Config.Database is required")
	}
	s := &Store{client: cfg.Client, node: cfg.NodeID, lease: cfg.Lease, now: time.Now,
		colls: map[string]*collState{}, recovering: map[string]bool{}}
	if s.client == nil {
		c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
		if err != nil {
			return nil, fmt.Errorf("mongostore: connect: %w", err)
		}
		s.client, s.ownClient = c, true
	}
	s.applyDefaults(cfg)
	if err := s.Ping(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// applyDefaults fills in the node id, lease and database handles.
func (s *Store) applyDefaults(cfg Config) {
	if s.node == "" {
		s.node = defaultNodeID()
	}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	wc, rc := cfg.WriteConcern, cfg.ReadConcern
	if wc == nil {
		wc = writeconcern.Majority()
	}
	if rc == nil {
		rc = readconcern.Majority()
	}
	s.writeConcernRaw = writeConcernDoc(wc)
	s.settleLocally = wc.W == "majority"
	s.db = s.client.Database(cfg.Database, options.Database().
		SetWriteConcern(wc).SetReadPreference(readpref.Primary()))
	s.feedDB = s.client.Database(cfg.Database, options.Database().
		SetWriteConcern(wc).SetReadConcern(rc).SetReadPreference(readpref.Primary()))
}

func defaultNodeID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// coll returns this process's state for collection.
func (s *Store) coll(collection string) *collState {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.colls[collection]
	if cs == nil {
		cs = &collState{}
		s.colls[collection] = cs
	}
	return cs
}

func (s *Store) docs(collection string) *mongo.Collection {
	return s.db.Collection("docs." + collection)
}

func (s *Store) sequencer() *mongo.Collection { return s.db.Collection(sequencerCollection) }

// ensureIndexes creates the unique seq index of collection once per process. It
// orders the feed and makes seals work (recover.go): two documents never hold one
// seq.
func (s *Store) ensureIndexes(ctx context.Context, collection string) error {
	cs := s.coll(collection)
	cs.allocMu.Lock()
	defer cs.allocMu.Unlock()
	if cs.indexed {
		return nil
	}
	_, err := s.docs(collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "seq", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("seq_unique")})
	if err != nil {
		return mapErr("create seq index of "+collection, err)
	}
	cs.indexed = true
	return nil
}

// Get returns the stored records of ids; missing ids are absent (seals, whose _id is
// a number, never match). It reads with the feed's (majority) read concern, so a Rev
// it returns never rolls back: a compare-and-swap on it can only match that very
// version (docs/change-feed.md relies on this).
func (s *Store) Get(ctx context.Context, collection string, ids []string) (map[string]store.Record, error) {
	if err := check.Collection(collection); err != nil {
		return nil, err
	}
	if err := check.IDs(ids); err != nil {
		return nil, err
	}
	out := make(map[string]store.Record, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	cur, err := s.feedDB.Collection("docs."+collection).Find(ctx, filter)
	if err != nil {
		return nil, mapErr("get from "+collection, err)
	}
	var docs []docBSON
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr("get from "+collection, err)
	}
	for _, d := range docs {
		if out[d.ID], err = d.record(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ping checks that the primary answers.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr("ping", s.client.Ping(ctx, readpref.Primary()))
}

// Close disconnects the client if the Store created it.
func (s *Store) Close(ctx context.Context) error {
	if !s.ownClient {
		return nil
	}
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("mongostore: disconnect: %w", err)
	}
	return nil
}

// docBSON is a stored document: {_id, seq, state}. Its seq is also its
// compare-and-swap token (Record.Rev): every write gives the document a new seq and
// no seq is handed out twice, so a seq names one version of one document (and a
// document's seqs only grow). The materialised JSON, version and deleted flag derive
// from the state (store.DecodeRecord), so they are not stored twice.
type docBSON struct {
	ID    string `bson:"_id"`
	Seq   int64  `bson:"seq"`
	State []byte `bson:"state"`
}

// record decodes d into the record it stores.
func (d docBSON) record() (store.Record, error) {
	r, err := store.DecodeRecord(d.ID, d.State)
	if err != nil {
		return store.Record{}, fmt.Errorf("mongostore: document %q: %w", d.ID, err)
	}
	r.ID, r.Seq, r.Rev = d.ID, uint64(d.Seq), d.Seq
	return r, nil
}

// BlindInserts implements store.BlindWriter: a push that creates documents saves the
// read (one round trip on MongoDB, a collection scan on FerretDB), and a creation
// that finds its document existing costs one failed insert in a bulk write that
// runs anyway.
func (s *Store) BlindInserts() bool { return true }
