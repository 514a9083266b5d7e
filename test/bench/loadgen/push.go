package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lattice-sync/lattice/test/bench/live"
)

// pushConfig is one push run: writers push total new documents to collection
// coll in batches, round-robin over urls.
type pushConfig struct {
	urls                  []string
	token, coll           string
	writers, batch, total int
}

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	urls := fs.String("urls", "http://127.0.0.1:8081", "the nodes, comma-separated, used round-robin")
	writers := fs.Int("writers", 4, "concurrent writers, each its own Lattice-Client id")
	batch := fs.Int("batch", 100, "mutations per push")
	total := fs.Int("total", 20000, "mutations in all (new documents)")
	coll := fs.String("collection", "orders", "the collection")
	token := fs.String("token", "", "bearer token sent with every request (lattice serve)")
	_ = fs.Parse(args)
	c := pushConfig{urls: splitList(*urls), token: *token, coll: *coll, writers: *writers, batch: *batch, total: *total}
	if len(c.urls) == 0 || c.writers <= 0 || c.batch <= 0 || c.total < c.writers {
		return errors.New("push wants -urls, positive -writers and -batch, and -total >= -writers")
	}
	latencies, took, err := pushRun(c)
	if err != nil {
		return err
	}
	fmt.Printf("push: %d writers, batches of %d, via %d node(s): %d mutations in %.2f s = %.1f k mutations/s; batch p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		c.writers, c.batch, len(c.urls), c.total, took.Seconds(), float64(c.total)/took.Seconds()/1000,
		live.Millis(live.Quantile(latencies, 0.5)), live.Millis(live.Quantile(latencies, 0.99)), live.Millis(latencies[len(latencies)-1]))
	return nil
}

// splitList splits a comma-separated list, dropping empty items and trailing slashes.
func splitList(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// pushRun runs c and returns every batch's latency, sorted, and the wall time of the
// whole run. The first failed push stops every writer.
func pushRun(c pushConfig) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := time.Now().UnixNano()
	lat := make([][]time.Duration, c.writers)
	errs := make([]error, c.writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c.writers {
		n := c.total / c.writers
		if w < c.total%c.writers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[w], errs[w] = pushWriter(ctx, c, fmt.Sprintf("push%d-w%d", run, w), w, n)
			if errs[w] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return all, took, nil
}

// pushWriter pushes n new documents as Lattice-Client client, c.batch per push, the
// j-th batch to c.urls[(w+j) % len(c.urls)], and returns each push's latency.
func pushWriter(ctx context.Context, c pushConfig, client string, w, n int) ([]time.Duration, error) {
	var lat []time.Duration
	var body strings.Builder
	for i, j := 0, 0; i < n; i, j = i+c.batch, j+1 {
		body.Reset()
		body.WriteString(`{"mutations":[`)
		for k := i; k < min(i+c.batch, n); k++ {
			if k > i {
				body.WriteByte(',')
			}
			body.WriteString(smallDoc(client, k))
		}
		body.WriteString(`]}`)
		url := c.urls[(w+j)%len(c.urls)]
		t := time.Now()
		if err := live.Push(ctx, url, c.token, client, c.coll, []byte(body.String())); err != nil {
			if ctx.Err() != nil {
				return lat, nil // another writer failed; its error is the one to report
			}
			return lat, fmt.Errorf("writer %d, batch %d via %s: %w", w, j, url, err)
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// smallDoc is the benchmarks' workload (syncnode/httpapi): a new document with 5
// small fields, its mutation id i+1.
func smallDoc(client string, i int) string {
	return fmt.Sprintf(`{"id":"%s-%d","mid":%d,"set":{"title":"Pump %d","status":"open","site":"Oslo","priority":%d,"done":false}}`,
		client, i, i+1, i, i%5)
}
