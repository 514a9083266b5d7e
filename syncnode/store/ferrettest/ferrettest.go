// Package ferrettest gives tests a MongoDB wire-protocol endpoint: FerretDB v1.24
// embedded in the test process (SQLite handler, temporary directory), or the real
// MongoDB named by the environment variable LATTICE_TEST_MONGODB_URI.
//
// Only tests import this package, so FerretDB never reaches the lattice binary.
package ferrettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store/ferrettest/wireproxy"
)

// EnvURI names the environment variable that points the tests at a real MongoDB.
const EnvURI = "LATTICE_TEST_MONGODB_URI"

// EnvLog names the environment variable that, when set, sends FerretDB's own log
// lines to the test log (they are discarded otherwise).
const EnvLog = "LATTICE_TEST_FERRETDB_LOG"

// Server is one test's MongoDB endpoint and the database reserved for it.
type Server struct {
	// URI is the connection string.
	URI string
	// Database is a database name no other test uses.
	Database string
	// Real reports whether URI is a real MongoDB (from EnvURI) rather than FerretDB.
	Real bool

	proxy *wireproxy.Proxy
}

// WriteStats says how long FerretDB spent on write commands, by command name
// (see wireproxy.WriteStats).
type WriteStats = wireproxy.WriteStats

// CommandStats counts one kind of write command (see wireproxy.CommandStats).
type CommandStats = wireproxy.CommandStats

// WriteStats returns how long FerretDB spent on each kind of write command since
// the server started or the previous call (nil for a real MongoDB).
func (s Server) WriteStats() WriteStats {
	if s.proxy == nil {
		return nil
	}
	return s.proxy.TakeStats()
}

// Start returns an endpoint for t. With EnvURI set it returns that URI and a fresh
// database name, dropped when t ends; otherwise it starts FerretDB in-process on a
// loopback port behind a proxy that gives its writes MongoDB's single-document
// atomicity (see package wireproxy), stopped (and its files removed) when t ends.
func Start(t testing.TB) Server {
	t.Helper()
	name := DatabaseName(t)
	if uri := os.Getenv(EnvURI); uri != "" {
		t.Cleanup(func() { dropDatabase(t, uri, name) })
		return Server{URI: uri, Database: name, Real: true}
	}
	uri, p := startFerret(t)
	return Server{URI: uri, Database: name, proxy: p}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// DatabaseName returns a database name derived from t's name, unique to this call.
func DatabaseName(t testing.TB) string {
	base := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(base) > 30 {
		base = base[len(base)-30:]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "lt_" + strings.Trim(base, "_") + "_" + hex.EncodeToString(b[:])
}

func startFerret(t testing.TB) (string, *wireproxy.Proxy) {
	t.Helper()
	// DiscardHandler, not a text handler on io.Discard: FerretDB derives a logger
	// per request, and formatting those attributes took a tenth of the benchmarks' CPU.
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv(EnvLog) != "" {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    logger,
	})
	if err != nil {
		t.Fatalf("ferrettest: start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("ferrettest: FerretDB stopped with: %v", err)
		}
	}
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		stop()
		t.Fatalf("ferrettest: FerretDB URI: %v", err)
	}
	p, err := wireproxy.Start("127.0.0.1:0", u.Host)
	if err != nil {
		stop()
		t.Fatalf("ferrettest: %v", err)
	}
	t.Cleanup(func() {
		p.Close()
		stop()
	})
	u.Host = p.Addr()
	return u.String(), p
}

func dropDatabase(t testing.TB, uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Logf("ferrettest: connect to drop %s: %v", name, err)
		return
	}
	defer func() { _ = client.Disconnect(ctx) }()
	if err := client.Database(name).Drop(ctx); err != nil {
		t.Logf("ferrettest: drop %s: %v", name, err)
	}
}

// testWriter forwards FerretDB's log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
