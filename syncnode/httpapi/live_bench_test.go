package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

// BenchmarkLiveLatency measures the peers note's live workload on one node with the
// embedded store: 200 listeners on GET /v1/stream, one writer pushing one document
// every 10 ms (100 writes/s), and for every (listener, write) pair the time from the
// push's 200 to the event's arrival (an event that arrives before the 200 counts
// as 0). Each iteration is 200 writes; it reports the median and p99 in ms. (20
// listeners too, to see how delivery scales.)
func BenchmarkLiveLatency(b *testing.B) {
	for _, listeners := range []int{20, 200} {
		b.Run(fmt.Sprintf("listeners=%d", listeners), func(b *testing.B) { benchLive(b, listeners) })
	}
}

func benchLive(b *testing.B, listeners int) {
	const writes = 200
	url := startDevNode(b)
	var all []time.Duration
	for i := 0; i < b.N; i++ {
		all = append(all, liveRun(b, url, listeners, writes, fmt.Sprint("live", i))...)
	}
	slices.Sort(all)
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
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

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// liveRun opens the listeners, pushes the writes and returns every delivery's delay.
func liveRun(b *testing.B, url string, listeners, writes int, prefix string) []time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrivals := make([]*listenerLog, listeners)
	var ready, done sync.WaitGroup
	for l := range arrivals {
		arrivals[l] = &listenerLog{at: map[string]time.Time{}}
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			arrivals[l].listen(ctx, b, url, prefix, writes, ready.Done)
		}()
	}
	ready.Wait()
	acked := pushLive(b, url, prefix, writes)
	waitOrTimeout(&done, 30*time.Second)
	cancel()
	var out []time.Duration
	for _, log := range arrivals {
		log.mu.Lock()
		for id, ack := range acked {
			if at, ok := log.at[id]; ok {
				out = append(out, max(at.Sub(ack), 0))
			} else {
				b.Errorf("a listener never received %s", id)
			}
		}
		log.mu.Unlock()
	}
	return out
}

// listenerLog records when one listener received each document.
type listenerLog struct {
	mu sync.Mutex
	at map[string]time.Time
}

// listen reads the stream until it has seen want documents of this run.
func (l *listenerLog) listen(ctx context.Context, b *testing.B, url, prefix string, want int, ready func()) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/stream?collections=orders", nil)
	resp, err := benchClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Errorf("stream: %v %v", resp, err)
		ready()
		return
	}
	defer resp.Body.Close()
	ready()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev protocol.StreamChange
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		now := time.Now()
		l.mu.Lock()
		for _, c := range ev.Changes {
			if strings.HasPrefix(c.ID, prefix+"-") {
				l.at[c.ID] = now
			}
		}
		n := len(l.at)
		l.mu.Unlock()
		if n == want {
			return
		}
	}
}

// pushLive pushes writes documents, one every 10 ms, and returns when each was
// acknowledged.
func pushLive(b *testing.B, url, prefix string, writes int) map[string]time.Time {
	acked := make(map[string]time.Time, writes)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < writes; i++ {
		<-tick.C
		id := fmt.Sprintf("%s-%d", prefix, i)
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open"}}]}`, id, i+1)
		req, _ := http.NewRequest("POST", url+"/v1/collections/orders/push", strings.NewReader(body))
		req.Header.Set("Lattice-Client", prefix)
		resp, err := benchClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("push: %v %v", resp, err)
		}
		acked[id] = time.Now()
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return acked
}

// waitOrTimeout waits for wg, or gives up after d (the missing deliveries are then
// reported by the caller).
func waitOrTimeout(wg *sync.WaitGroup, d time.Duration) {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	select {
	case <-c:
	case <-time.After(d):
	}
}
