package syncnode_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

type runningNode struct {
	url      string
	adminURL string
	spans    *tracetest.SpanRecorder
	logs     *bytes.Buffer
	cancel   context.CancelFunc
	done     chan error
}

func startNode(t *testing.T) *runningNode {
	return startNodeWith(t, func(*config.Config) {})
}

// startNodeWith starts a dev node whose configuration tweak may change.
func startNodeWith(t *testing.T, tweak func(*config.Config)) *runningNode {
	t.Helper()
	cfg := config.Dev()
	cfg.Listen = "127.0.0.1:0"
	tweak(&cfg)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "lattice.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.Setup(ctx, cfg.Tenant, rec)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(logs, nil)})
	n, err := syncnode.New(ctx, cfg, syncnode.Deps{Store: st, Bus: fanout.NewMemoryBus(), Auth: auth.None{}, Logger: logger, Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Listen(); err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if cfg.TLS.CertFile != "" {
		scheme = "https://"
	}
	rn := &runningNode{url: scheme + n.Addr(), spans: rec, logs: logs, cancel: cancel, done: make(chan error, 1)}
	if a := n.AdminAddr(); a != "" {
		rn.adminURL = "http://" + a
	}
	go func() { rn.done <- n.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-rn.done })
	return rn
}

func TestPushIsTracedFromRequestToStore(t *testing.T) {
	n := startNode(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", n.url+"/v1/collections/orders/push",
		strings.NewReader(`{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`))
	req.Header.Set("Lattice-Client", "c1")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()
	names := map[string]bool{}
	for _, s := range n.spans.Ended() {
		if s.SpanContext().TraceID().String() == traceID {
			names[s.Name()] = true
		}
	}
	for _, want := range []string{"POST /v1/collections/{collection}/push", "merge.push", "store.Get", "store.Commit"} {
		if !names[want] {
			t.Errorf("no span %q in the request's trace; got %v", want, names)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	n := startNode(t)
	var muts []string // enough documents that the bloat metrics sample some
	for i := range 40 {
		muts = append(muts, fmt.Sprintf(`{"id":"d%d","mid":%d,"set":{"x":1}}`, i, i+1))
	}
	req, _ := http.NewRequest("POST", n.url+"/v1/collections/orders/push", strings.NewReader(`{"mutations":[`+strings.Join(muts, ",")+`]}`))
	req.Header.Set("Lattice-Client", "c1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(n.url + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"lattice_push_mutations_total", "lattice_merge_duration_seconds", "lattice_http_requests_total",
		"lattice_doc_metadata_bytes_bucket", "lattice_doc_clients_bucket", `lattice_doc_sampled_writes_total{deleted="false"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestShutdownEndsStreamsCleanly(t *testing.T) {
	n := startNode(t)
	resp, err := http.Get(n.url + "/v1/stream?collections=orders")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Fatalf("first line %q", line)
	}
	n.cancel()
	if _, err := io.ReadAll(r); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		n.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("node did not stop")
	}
}

var _ sdktrace.SpanProcessor = (*tracetest.SpanRecorder)(nil)
