package httpapi_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
)

// eachStore runs f against the embedded store and against the MongoDB store (on
// FerretDB embedded in the test, or the real MongoDB of LATTICE_TEST_MONGODB_URI).
func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("embedded", func(t *testing.T) { f(t, openStore(t)) })
	t.Run("mongodb", func(t *testing.T) { f(t, openMongo(t)) })
}

// openStore opens a fresh embedded store for one test.
func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "lattice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// openMongo opens a MongoDB store on a fresh database.
func openMongo(t testing.TB) store.Store {
	t.Helper()
	return openMongoOn(t, ferrettest.Start(t))
}

// openMongoOn opens a MongoDB store on srv, closed when t ends.
func openMongoOn(t testing.TB, srv ferrettest.Server) store.Store {
	t.Helper()
	st, err := mongostore.Open(context.Background(), mongostore.Config{URI: srv.URI, Database: srv.Database})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}
