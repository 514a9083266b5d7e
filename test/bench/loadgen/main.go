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
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lattice-sync/lattice/test/bench/live"
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
		err = liveRun(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: want idle or live", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
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
	streams := make([]*live.Stream, 0, *n)
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for i := 0; i < *n; i++ {
		s, err := live.Open(context.Background(), *url, "orders")
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

func liveRun(args []string) error {
	fs := flag.NewFlagSet("live", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the node")
	n := fs.Int("listeners", 200, "streams")
	rate := fs.Int("rate", 100, "writes per second")
	writes := fs.Int("writes", 500, "writes in all")
	_ = fs.Parse(args)
	delays, missing, err := live.Run(*url, *n, *writes, *rate)
	if err != nil {
		return err
	}
	if len(delays) == 0 {
		return errors.New("no event arrived")
	}
	fmt.Printf("%d streams, %d writes/s, %d deliveries: p50 %.2f ms, p99 %.2f ms, max %.2f ms, missing %d\n",
		*n, *rate, len(delays), live.Millis(live.Quantile(delays, 0.5)), live.Millis(live.Quantile(delays, 0.99)),
		live.Millis(delays[len(delays)-1]), missing)
	if missing > 0 {
		return fmt.Errorf("%d deliveries missing after 30 s", missing)
	}
	return nil
}
