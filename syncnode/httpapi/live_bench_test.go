package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
	"github.com/lattice-sync/lattice/test/bench/live"
)

// BenchmarkLiveLatency measures the peers note's live workload on one node wired as
// `lattice dev` wires it: 200 listeners on GET /v1/stream, one writer pushing one
// document every 10 ms (100 writes/s), and for every (listener, write) pair the time
// from the push's 200 to the event's arrival (test/bench/live). Each iteration is
// 200 writes; it reports the median and p99 in ms. (20 listeners too, to see how
// delivery scales.)
func BenchmarkLiveLatency(b *testing.B) {
	for _, listeners := range []int{20, 200} {
		b.Run(fmt.Sprintf("listeners=%d", listeners), func(b *testing.B) { benchLive(b, listeners) })
	}
}

func benchLive(b *testing.B, listeners int) {
	url := startDevNode(b)
	var all []time.Duration
	for i := 0; i < b.N; i++ {
		delays, missing, err := live.Run(url, listeners, 200, 100)
		if err != nil || missing > 0 {
			b.Fatalf("live run: %v (%d deliveries missing)", err, missing)
		}
		all = append(all, delays...)
	}
	slices.Sort(all)
	b.ReportMetric(live.Millis(live.Quantile(all, 0.5)), "p50-ms")
	b.ReportMetric(live.Millis(live.Quantile(all, 0.99)), "p99-ms")
}

// startDevNode runs a node wired as `lattice dev` wires it (embedded store, in-memory
// bus, commits published to live streams) and returns its URL.
func startDevNode(b *testing.B) string {
	cfg := config.Dev()
	cfg.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	tel, err := telemetry.Setup(ctx, cfg.Tenant)
	if err != nil {
		b.Fatal(err)
	}
	n, err := syncnode.New(ctx, cfg, syncnode.Deps{Store: openStore(b), Bus: fanout.NewMemoryBus(), Auth: auth.None{},
		Logger: slog.New(slog.DiscardHandler), Telemetry: tel})
	if err == nil {
		err = n.Listen()
	}
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx, time.Second) }()
	b.Cleanup(func() { cancel(); <-done })
	return "http://" + n.Addr()
}
