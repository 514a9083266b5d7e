package syncnode_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/fanout/redistest"
	"github.com/lattice-sync/lattice/syncnode"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

// startClusterNode starts a node on the shared MongoDB endpoint and Redis, as one
// replica of a cluster (in this process, with its own store client and bus).
func startClusterNode(t *testing.T, mongo ferrettest.Server, redisURL string, tel *telemetry.Telemetry) string {
	t.Helper()
	cfg := config.Dev()
	cfg.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	st, err := mongostore.Open(ctx, mongostore.Config{URI: mongo.URI, Database: mongo.Database})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	bus, err := fanout.NewRedisBus(fanout.RedisConfig{URL: redisURL, Tenant: cfg.Tenant, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	n, err := syncnode.New(ctx, cfg, syncnode.Deps{Store: st, Bus: bus, Auth: auth.None{}, Logger: logger, Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done; _ = bus.Close() })
	for deadline := time.Now().Add(10 * time.Second); bus.Health() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("bus not healthy: %v", bus.Health())
		}
	}
	return "http://" + n.Addr()
}

// openSSE opens an event stream and returns its lines.
func openSSE(t *testing.T, url string) <-chan string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", url, resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- line
		}
	}()
	return lines
}

func waitForLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q within 10s", want)
		}
	}
}

func TestPushOnOneNodeReachesStreamsOnAnotherAndJoinsItsTrace(t *testing.T) {
	mongo, redis := ferrettest.Start(t), redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.Setup(ctx, "dev", rec)
	if err != nil {
		t.Fatal(err)
	}
	one := startClusterNode(t, mongo, redis.URL, tel)
	two := startClusterNode(t, mongo, redis.URL, tel)
	native := openSSE(t, two+"/v1/stream?collections=orders")
	rxdb := openSSE(t, two+"/v1/rxdb/orders/stream")
	waitForLine(t, rxdb, "RESYNC")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", one+"/v1/collections/orders/push",
		strings.NewReader(`{"mutations":[{"id":"wo-42","mid":1,"set":{"status":"open"}}]}`))
	req.Header.Set("Lattice-Client", "tablet-7")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	waitForLine(t, native, `"wo-42"`)
	waitForLine(t, rxdb, `"wo-42"`)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if hasSpan(rec, traceID, "live.deliver") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no stream.deliver span in the push's trace")
		}
	}
}

func hasSpan(rec *tracetest.SpanRecorder, traceID, name string) bool {
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID().String() == traceID && s.Name() == name {
			return true
		}
	}
	return false
}

func TestRedisDownDegradesButNothingStops(t *testing.T) {
	mongo, redis := ferrettest.Start(t), redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tel, err := telemetry.Setup(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	one := startClusterNode(t, mongo, redis.URL, tel)
	two := startClusterNode(t, mongo, redis.URL, tel)
	stream := openSSE(t, two+"/v1/stream?collections=orders")
	redis.Stop()
	waitReady(t, two, "degraded")
	pushOne(t, one, "wo-1") // pushes succeed: MongoDB is the truth
	waitForLine(t, stream, `"wo-1"`)
	redis.Restart()
	waitReady(t, two, "ready")
	waitReady(t, one, "ready")
	pushOne(t, one, "wo-2")
	waitForLine(t, stream, `"wo-2"`)
	resp, err := http.Get(two + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"lattice_fanout_redis_errors_total", "lattice_fanout_dropped_events_total",
		"lattice_fanout_lag_ms", "lattice_stream_queued_pages", "lattice_stream_connections"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func pushOne(t *testing.T, node, id string) {
	t.Helper()
	req, _ := http.NewRequest("POST", node+"/v1/collections/orders/push",
		strings.NewReader(`{"mutations":[{"id":"`+id+`","mid":1,"set":{"status":"open"}}]}`))
	req.Header.Set("Lattice-Client", "tablet-"+id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push %s: %v %v", id, resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// waitReady waits until /readyz answers 200 with status want.
func waitReady(t *testing.T, node, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(node + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), `"status":"`+want+`"`) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of %s not %q within 10s", node, want)
		}
	}
}
