// Package live measures live delivery over GET /v1/stream: streams that record when
// each document of a run arrives, a writer that pushes at a steady rate, and the
// delay from each push's 200 to each stream's event (an event that arrives before
// the 200 counts as 0). The benchmark in syncnode/httpapi and the load generator in
// test/bench/loadgen share it.
package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Client keeps a connection per stream and per writer.
var Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// Stream is one open SSE connection to GET /v1/stream.
type Stream struct {
	body  io.ReadCloser
	lines *bufio.Scanner
}

// Open opens a stream of collection coll and waits for the server's first line,
// which it sends with the headers.
func Open(ctx context.Context, url, coll string) (*Stream, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/v1/stream?collections="+coll, nil)
	if err != nil {
		return nil, err
	}
	resp, err := Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open a stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("open a stream: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4096), 16<<20)
	if !sc.Scan() {
		resp.Body.Close()
		return nil, errors.New("stream closed before its first line")
	}
	return &Stream{body: resp.Body, lines: sc}, nil
}

// Close ends the stream.
func (s *Stream) Close() { s.body.Close() }

// arrivals records when one stream received each document of a run.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time
}

// read consumes s until it has seen want documents whose ids start with prefix.
func (a *arrivals) read(s *Stream, prefix string, want int) {
	for s.lines.Scan() {
		data, ok := strings.CutPrefix(s.lines.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Changes []struct {
				ID string `json:"id"`
			} `json:"changes"`
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		now := time.Now()
		a.mu.Lock()
		for _, c := range ev.Changes {
			if strings.HasPrefix(c.ID, prefix) {
				a.at[c.ID] = now
			}
		}
		n := len(a.at)
		a.mu.Unlock()
		if n >= want {
			return
		}
	}
}

// Run opens listeners streams on the node at url, pushes writes documents to the
// collection "orders", rate per second, and returns every (stream, write) delay,
// sorted, and how many deliveries had not arrived 30 s after the last push.
func Run(url string, listeners, writes, rate int) ([]time.Duration, int, error) {
	if listeners <= 0 || writes <= 0 || rate <= 0 {
		return nil, 0, errors.New("listeners, writes and rate must be positive")
	}
	prefix := fmt.Sprintf("live%d-", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := make([]*arrivals, listeners)
	var done sync.WaitGroup
	for i := range logs {
		s, err := Open(ctx, url, "orders")
		if err != nil {
			return nil, 0, fmt.Errorf("stream %d: %w", i, err)
		}
		logs[i] = &arrivals{at: map[string]time.Time{}}
		done.Add(1)
		go func() { defer done.Done(); defer s.Close(); logs[i].read(s, prefix, writes) }()
	}
	acked, err := pushAtRate(url, prefix, writes, rate)
	if err != nil {
		return nil, 0, err
	}
	waitOrTimeout(&done, 30*time.Second)
	cancel()
	delays, missing := delaysOf(logs, acked)
	return delays, missing, nil
}

// pushAtRate pushes writes documents, rate per second, and returns when each was
// acknowledged.
func pushAtRate(url, prefix string, writes, rate int) (map[string]time.Time, error) {
	acked := make(map[string]time.Time, writes)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; i < writes; i++ {
		<-tick.C
		id := fmt.Sprint(prefix, i)
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open"}}]}`, id, i+1)
		req, err := http.NewRequest("POST", url+"/v1/collections/orders/push", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Lattice-Client", strings.TrimSuffix(prefix, "-"))
		resp, err := Client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("push: %s", resp.Status)
		}
		acked[id] = time.Now()
	}
	return acked, nil
}

// delaysOf pairs every stream's arrivals with the acknowledgements.
func delaysOf(logs []*arrivals, acked map[string]time.Time) ([]time.Duration, int) {
	var delays []time.Duration
	missing := 0
	for _, a := range logs {
		a.mu.Lock()
		for id, ack := range acked {
			if at, ok := a.at[id]; ok {
				delays = append(delays, max(at.Sub(ack), 0))
			} else {
				missing++
			}
		}
		a.mu.Unlock()
	}
	slices.Sort(delays)
	return delays, missing
}

// waitOrTimeout waits for wg, or gives up after d.
func waitOrTimeout(wg *sync.WaitGroup, d time.Duration) {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	select {
	case <-c:
	case <-time.After(d):
	}
}

// Quantile returns the q-quantile (0 <= q < 1) of sorted delays.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)))]
}

// Millis converts d to milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
