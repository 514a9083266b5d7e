// Command loadgen drives a running Lattice node over HTTP from its own process, for
// the figures the in-process benchmarks cannot give (the server's memory, delivery
// with the load generator outside the server's process):
//
//	go run ./test/bench/loadgen idle -pid <server pid> [-listeners 1000]
//	go run ./test/bench/loadgen live [-listeners 200] [-rate 100] [-writes 500]
//
// idle opens idle SSE streams and reports how much the server's resident memory
// grew per stream (from /proc/<pid>/status, so Linux only). live opens streams,
// pushes documents at a steady rate and reports the delay from each push's 200 to
// each stream's event (p50, p99; an event before the 200 counts as 0).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen idle|live [flags] (see the package comment)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "idle":
		err = idle(os.Args[2:])
	case "live":
		err = live(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: want idle or live", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// client keeps a connection per stream and per writer.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// stream is one open SSE connection: lines of its body arrive on lines.
type stream struct {
	body  io.ReadCloser
	lines *bufio.Scanner
}

// openStream opens GET /v1/stream for coll and waits for the server's first bytes.
func openStream(ctx context.Context, url, coll string) (*stream, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/v1/stream?collections="+coll, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open a stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("open a stream: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4096), 16<<20)
	if !sc.Scan() { // "retry: …", flushed with the headers
		resp.Body.Close()
		return nil, errors.New("stream closed before its first line")
	}
	return &stream{body: resp.Body, lines: sc}, nil
}

func idle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the node")
	pid := fs.Int("pid", 0, "the node's process id (its memory is read from /proc)")
	n := fs.Int("listeners", 1000, "idle streams to open")
	settle := fs.Duration("settle", 5*time.Second, "wait before reading memory again")
	_ = fs.Parse(args)
	if *pid <= 0 {
		return errors.New("idle needs -pid, the node's process id")
	}
	before, err := rssKB(*pid)
	if err != nil {
		return err
	}
	streams := make([]*stream, 0, *n)
	defer func() {
		for _, s := range streams {
			s.body.Close()
		}
	}()
	for i := 0; i < *n; i++ {
		s, err := openStream(context.Background(), *url, "orders")
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		streams = append(streams, s)
	}
	time.Sleep(*settle)
	after, err := rssKB(*pid)
	if err != nil {
		return err
	}
	fmt.Printf("%d idle streams: server RSS %d KB -> %d KB, %.1f KB per stream\n",
		*n, before, after, float64(after-before)/float64(*n))
	return nil
}

// rssKB reads a process's resident set size from /proc.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the node's memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func live(args []string) error {
	fs := flag.NewFlagSet("live", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the node")
	n := fs.Int("listeners", 200, "streams")
	rate := fs.Int("rate", 100, "writes per second")
	writes := fs.Int("writes", 500, "writes in all")
	_ = fs.Parse(args)
	if *rate <= 0 || *writes <= 0 || *n <= 0 {
		return errors.New("-listeners, -rate and -writes must be positive")
	}
	prefix := fmt.Sprintf("lg%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := make([]*arrivals, *n)
	var done sync.WaitGroup
	for i := range logs {
		s, err := openStream(ctx, *url, "orders")
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		logs[i] = &arrivals{at: map[string]time.Time{}}
		done.Add(1)
		go func() { defer done.Done(); defer s.body.Close(); logs[i].read(s, prefix, *writes) }()
	}
	acked, err := pushAtRate(*url, prefix, *writes, *rate)
	if err != nil {
		return err
	}
	waitOrTimeout(&done, 30*time.Second)
	cancel()
	return report(logs, acked, *n, *rate)
}

// arrivals records when one stream received each document of the run.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time
}

// read consumes s until it has seen want documents of the run.
func (a *arrivals) read(s *stream, prefix string, want int) {
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
			if strings.HasPrefix(c.ID, prefix+"-") {
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

// pushAtRate pushes writes documents, rate per second, and returns when each was
// acknowledged.
func pushAtRate(url, prefix string, writes, rate int) (map[string]time.Time, error) {
	acked := make(map[string]time.Time, writes)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; i < writes; i++ {
		<-tick.C
		id := fmt.Sprintf("%s-%d", prefix, i)
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open"}}]}`, id, i+1)
		req, err := http.NewRequest("POST", url+"/v1/collections/orders/push", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Lattice-Client", prefix)
		resp, err := client.Do(req)
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

// report prints the delivery delays' median and p99.
func report(logs []*arrivals, acked map[string]time.Time, listeners, rate int) error {
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
	if len(delays) == 0 {
		return errors.New("no event arrived")
	}
	slices.Sort(delays)
	fmt.Printf("%d streams, %d writes/s, %d deliveries: p50 %.2f ms, p99 %.2f ms, max %.2f ms, missing %d\n",
		listeners, rate, len(delays), ms(delays[len(delays)/2]), ms(delays[len(delays)*99/100]), ms(delays[len(delays)-1]), missing)
	if missing > 0 {
		return fmt.Errorf("%d deliveries missing after 30 s", missing)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitOrTimeout waits for wg, or gives up after d.
func waitOrTimeout(wg *sync.WaitGroup, d time.Duration) {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	select {
	case <-c:
	case <-time.After(d):
	}
}
