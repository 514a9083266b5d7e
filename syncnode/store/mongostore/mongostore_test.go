package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// opener starts one endpoint per test and opens Stores on that test's database.
func opener(cfg Config) storetest.Opener {
	var mu sync.Mutex
	servers := map[*testing.T]ferrettest.Server{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		srv, ok := servers[t]
		if !ok {
			srv = ferrettest.Start(t)
			servers[t] = srv
		}
		mu.Unlock()
		return openOn(t, srv, cfg)
	}
}

// openOn opens a Store on srv with cfg (URI and Database filled in).
func openOn(t testing.TB, srv ferrettest.Server, cfg Config) *Store {
	t.Helper()
	cfg.URI, cfg.Database = srv.URI, srv.Database
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open mongostore: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(Config{}))
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{URI: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200", Database: "x"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open on a closed port: %v, want ErrUnavailable", err)
	}
}

func TestLargeCommitIsChunked(t *testing.T) {
	defer func(n int) { maxChunk = n }(maxChunk)
	maxChunk = 3
	s := newNode(t, ferrettest.Start(t), "n", longLease)
	ws := make([]store.Write, 8)
	for i := range ws {
		ws[i] = w(fmt.Sprint("d", i), "1", 0)
	}
	ws[5].ExpectRev = 4 // a conflict in the middle chunk
	res := mustCommit(t, s, ws...)
	if len(res.Committed) != 7 || len(res.Conflicts) != 1 || res.Conflicts[0] != "d5" {
		t.Fatalf("chunked commit = %+v", res)
	}
	rd := newReader(realFeed, s)
	rd.drain(t)
	if len(rd.seen) != 7 {
		t.Fatalf("feed after a chunked commit has %d documents, want 7", len(rd.seen))
	}
	if pend := pendingEntries(t, s); len(pend) != 0 {
		t.Fatalf("pending after a chunked commit: %v", pend)
	}
}

// TestLargeInsertIsSplit: a round's new documents go out in several insert commands
// when they exceed maxInsertBytes, and a duplicate in a later command is reported for
// the right document.
func TestLargeInsertIsSplit(t *testing.T) {
	defer func(n int) { maxInsertBytes = n }(maxInsertBytes)
	maxInsertBytes = 250
	srv := ferrettest.Start(t)
	s := newNode(t, srv, "n", longLease)
	mustCommit(t, s, w("d6", "old", 0))
	srv.WriteStats()
	ws := make([]store.Write, 8)
	for i := range ws {
		ws[i] = w(fmt.Sprint("d", i), "1", 0)
	}
	res := mustCommit(t, s, ws...)
	if len(res.Committed) != 7 || len(res.Conflicts) != 1 || res.Conflicts[0] != "d6" {
		t.Fatalf("split insert = %+v, want d6 as the only conflict", res)
	}
	if n := srv.WriteStats()["insert"].Count; !srv.Real && n < 3 {
		t.Fatalf("8 documents over %d bytes went out in %d insert commands", maxInsertBytes, n)
	}
	got, err := s.Get(testCtx(t), coll, []string{"d0", "d7"})
	if err != nil || len(got) != 2 {
		t.Fatalf("documents of the first and last command: %v, %v", got, err)
	}
}

func TestWriteConcernDoc(t *testing.T) {
	journal := true
	for _, tc := range []struct {
		wc   *writeconcern.WriteConcern
		want string
	}{
		{writeconcern.Majority(), `{"w": "majority"}`},
		{writeconcern.W1(), `{"w": {"$numberInt":"1"}}`},
		{&writeconcern.WriteConcern{W: 2, Journal: &journal}, `{"w": {"$numberInt":"2"},"j": true}`},
	} {
		if got := writeConcernDoc(tc.wc).String(); got != tc.want {
			t.Errorf("writeConcernDoc(%+v) = %s, want %s", tc.wc, got, tc.want)
		}
	}
}
