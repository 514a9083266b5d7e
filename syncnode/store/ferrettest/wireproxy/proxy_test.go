package wireproxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestConcurrentIncrementsAllLand checks single-document atomicity through the
// proxy: concurrent findOneAndUpdate $inc calls on one document must all count.
func TestConcurrentIncrementsAllLand(t *testing.T) {
	p := startProxy(t, startFerret(t))
	if got := countIncrements(t, "mongodb://"+p.Addr()+"/", "wireproxy"); got != incWorkers*incEach {
		t.Fatalf("counter = %d after %d increments: lost updates", got, incWorkers*incEach)
	}
	st := p.TakeStats()
	if st["findAndModify"].Count != incWorkers*incEach || st["insert"].Count != 1 || st["find"].Count != 0 {
		t.Fatalf("write stats after 1 insert and %d findAndModify: %v", incWorkers*incEach, st)
	}
	if again := p.TakeStats(); len(again) != 0 {
		t.Fatalf("write stats not reset: %v", again)
	}
}

// TestCloseEndsConnections checks that Close ends open connections and refuses new ones.
func TestCloseEndsConnections(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() { // accept and hold connections until the listener closes
		for {
			if _, err := backend.Accept(); err != nil {
				return
			}
		}
	}()
	p, err := Start("127.0.0.1:0", backend.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // let the proxy dial the backend
	p.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from a closed proxy succeeded")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		c2.Close()
		t.Fatal("the closed proxy still accepts connections")
	}
}

func TestStartBadAddress(t *testing.T) {
	if _, err := Start("256.0.0.1:0", "127.0.0.1:1"); err == nil {
		t.Fatal("Start on an invalid address succeeded")
	}
}

const (
	incWorkers = 8
	incEach    = 15
)

// startFerret runs FerretDB (SQLite, temporary directory) until t ends and returns
// its host:port.
func startFerret(t *testing.T) string {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("FerretDB stopped with: %v", err)
		}
	})
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		t.Fatalf("FerretDB URI: %v", err)
	}
	return u.Host
}

// startProxy starts a proxy to target, closed when t ends (before FerretDB stops).
func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := Start("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// countIncrements runs incWorkers clients doing incEach increments each and returns
// the final counter.
func countIncrements(t *testing.T, uri, db string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database(db).Collection("counters")
	filter := bson.D{{Key: "_id", Value: "c"}}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range incWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range incEach {
				upd := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
				if err := coll.FindOneAndUpdate(ctx, filter, upd).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got struct{ N int }
	if err := coll.FindOne(ctx, filter).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got.N
}

func TestCommandName(t *testing.T) {
	body := bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "x"}}
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, headerLen+4+1)
	msg[12] = opMsg & 0xff
	msg[13] = opMsg >> 8
	msg = append(msg, raw...)
	if got := commandName(msg); got != "update" {
		t.Fatalf("commandName = %q, want update", got)
	}
	if got := commandName(msg[:headerLen+4]); got != "" {
		t.Fatalf("commandName of a truncated message = %q, want empty", got)
	}
}
