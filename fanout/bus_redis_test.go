package fanout

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lattice-sync/lattice/fanout/redistest"
)

// recorder collects the events one subscriber got.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) handle(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// waitFor waits until an event satisfying ok arrived, or fails t.
func (r *recorder) waitFor(t *testing.T, what string, ok func(Event) bool) Event {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r.mu.Lock()
		for _, e := range r.events {
			if ok(e) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
	}
	t.Fatalf("no %s within 10s", what)
	return Event{}
}

func (r *recorder) count(ok func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if ok(e) {
			n++
		}
	}
	return n
}

func testBus(t *testing.T, url string, tweak func(*RedisConfig)) (*RedisBus, *recorder) {
	t.Helper()
	cfg := RedisConfig{URL: url, Tenant: "t1", MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Block: time.Second, Logger: slog.New(slog.DiscardHandler)}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := NewRedisBus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := b.Subscribe(ctx, rec.handle); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, b)
	return b, rec
}

func waitHealthy(t *testing.T, b *RedisBus) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); b.Health() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("bus not healthy within 10s: %v", b.Health())
		}
	}
}

func isColl(c string, seq uint64) func(Event) bool {
	return func(e Event) bool { return e.Collection == c && e.Seq == seq }
}

func TestRedisBusCarriesEventsBetweenNodes(t *testing.T) {
	srv := redistest.Start(t)
	a, recA := testBus(t, srv.URL, nil)
	b, recB := testBus(t, srv.URL, nil)
	ctx := context.Background()
	if err := a.Publish(ctx, Event{Collection: "orders", IDs: []string{"wo-1"}, Seq: 7, TraceParent: "00-abc-def-01"}); err != nil {
		t.Fatal(err)
	}
	got := recB.waitFor(t, "event on the other node", isColl("orders", 7))
	if got.Local || got.TraceParent != "00-abc-def-01" || len(got.IDs) != 1 || got.IDs[0] != "wo-1" {
		t.Fatalf("other node got %+v", got)
	}
	own := recA.waitFor(t, "event on the publishing node", isColl("orders", 7))
	if !own.Local {
		t.Fatalf("publishing node's own event not marked local: %+v", own)
	}
	_ = b.Publish(ctx, Event{Collection: "orders", Seq: 8})
	recA.waitFor(t, "event back on the first node", isColl("orders", 8))
	if n := recA.count(isColl("orders", 7)); n != 1 {
		t.Fatalf("publishing node got its own event %d times, want once", n)
	}
}

func TestRedisBusResyncsWhenRedisRestarts(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := testBus(t, srv.URL, nil)
	b, recB := testBus(t, srv.URL, nil)
	resyncsBefore := recB.count(func(e Event) bool { return e.Resync })
	srv.Stop()
	for deadline := time.Now().Add(10 * time.Second); b.Health() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bus still healthy 10s after Redis died")
		}
	}
	_ = a.Publish(context.Background(), Event{Collection: "orders", Seq: 1}) // lost with Redis
	for deadline := time.Now().Add(10 * time.Second); a.Stats().Dropped.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("publish while Redis is down not counted as dropped within 10s")
		}
	}
	srv.Restart()
	waitHealthy(t, b)
	waitHealthy(t, a)
	recB.waitFor(t, "resync after the restart", func(e Event) bool { return e.Resync })
	recB.waitFor(t, "the publisher's own resync for its lost event", func(e Event) bool { return e.Resync && e.Origin == a.origin })
	if recB.count(func(e Event) bool { return e.Resync }) <= resyncsBefore {
		t.Fatal("no new resync")
	}
	_ = a.Publish(context.Background(), Event{Collection: "orders", Seq: 2})
	recB.waitFor(t, "live event after the restart", isColl("orders", 2))
}

func TestRedisBusResyncsWhenEntriesWereTrimmedUnread(t *testing.T) {
	srv := redistest.Start(t)
	cfg := RedisConfig{URL: srv.URL, Tenant: "t1", MaxLen: 5, Block: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	b, err := newRedisBus(cfg) // loops not started: the test drives the reader
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rec := &recorder{}
	_ = b.Subscribe(context.Background(), rec.handle)
	ctx := context.Background()
	r := &streamReader{bus: b, count: min(readCount, b.cfg.MaxLen)}
	if err := r.step(ctx); err != nil { // positions at the (empty) stream's end
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	for i := range 3 { // read before anything is trimmed: no resync
		addEntry(t, raw, b.Key(), uint64(i), 0)
	}
	resyncs := rec.count(func(e Event) bool { return e.Resync })
	if err := r.step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(e Event) bool { return e.Resync }); n != resyncs {
		t.Fatalf("resync without a trim (%d -> %d)", resyncs, n)
	}
	for i := range 20 { // exact MAXLEN 5: 15 unread entries are trimmed
		addEntry(t, raw, b.Key(), uint64(100+i), 5)
	}
	if err := r.step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(e Event) bool { return e.Resync }); n != resyncs+1 {
		t.Fatalf("resyncs after a trim past the reader = %d, want %d", n, resyncs+1)
	}
}

func addEntry(t *testing.T, c *redis.Client, key string, seq uint64, maxLen int64) {
	t.Helper()
	e := fmt.Sprintf(`{"c":"orders","seq":%d,"o":"someone-else"}`, seq)
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: key, MaxLen: maxLen, Values: []string{eventField, e}}).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRedisBusPublishNeverBlocksWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	a, recA := testBus(t, srv.URL, func(c *RedisConfig) { c.QueueSize = 4 })
	srv.Stop()
	for i := range 100 {
		_ = a.Publish(context.Background(), Event{Collection: "orders", Seq: uint64(i)})
	}
	if n := recA.count(func(e Event) bool { return e.Collection == "orders" && e.Local }); n != 100 {
		t.Fatalf("local subscribers got %d of 100 events while Redis was down", n)
	}
	if a.Stats().Dropped.Load() == 0 {
		t.Fatal("no event counted as dropped")
	}
}

func TestRedisBusRefusesBadConfig(t *testing.T) {
	for _, cfg := range []RedisConfig{{URL: "redis://127.0.0.1:1/0"}, {URL: "http://x", Tenant: "t"}} {
		if _, err := NewRedisBus(cfg); err == nil {
			t.Errorf("NewRedisBus(%+v) accepted", cfg)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1-0", "1-0", 0}, {"1-1", "1-0", 1}, {"2-0", "10-0", -1}, {"", "0-0", 0}, {"0-0", "1-0", -1}, {"junk", "0-1", -1}} {
		if got := compareIDs(c.a, c.b); got != c.want {
			t.Errorf("compareIDs(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"c":"orders","ids":["a"],"seq":3,"tp":"00-1-2-01","at":5,"o":"x"}`))
	f.Add([]byte(`{"r":true}`))
	f.Add([]byte(`{"c":""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := DecodeEvent(raw)
		if err != nil {
			return
		}
		if e.Collection == "" && !e.Resync {
			t.Fatalf("accepted an event with neither collection nor resync: %s", raw)
		}
		if e.Local {
			t.Fatalf("a decoded event claims to be local: %s", raw)
		}
	})
}
