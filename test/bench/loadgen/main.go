// Command loadgen drives running Lattice nodes over HTTP from its own process, for
// the figures the in-process benchmarks cannot give (the server's memory, delivery
// with the load generator outside the server's process, a cluster of replicas,
// Centrifugo beside Lattice):
//
//	go run ./test/bench/loadgen idle -pid <server pid> [-listeners 1000]
//	go run ./test/bench/loadgen live [-listeners 200] [-rate 100] [-writes 500]
//	go run ./test/bench/loadgen cross -push-url <replica> -listen-url <another replica> [-listeners 200] [-rate 100] [-writes 500]
//	go run ./test/bench/loadgen push -urls <u1,u2,u3> [-writers 4] [-batch 100] [-total 20000]
//	go run ./test/bench/loadgen fanout [-target lattice|centrifugo] -url <server> [-listeners 10000] [-events 200] [-rate 50] [-api-key K]
//
// Every mode but fanout against Centrifugo takes -token <jwt>, a bearer token sent
// on every request (lattice serve wants one; `bash hack/cluster.sh token` prints
// one for the local cluster).
//
// idle opens idle SSE streams and reports how much the server's resident memory
// grew per stream (from /proc/<pid>/status, so Linux only). live opens streams,
// pushes documents at a steady rate and reports the delay from each push's 200 to
// each stream's event (p50, p99; an event before the 200 counts as 0). cross does
// the same with the streams on another replica than the one that takes the pushes:
// the delay from the push acknowledged by one replica to the event arriving on the
// other. push has writers push batches of new documents with 5 small fields (each
// writer its own Lattice-Client id and increasing mids), round-robin over the
// URLs, and reports mutations per second and the batch latency (p50, p99); with one
// URL and then with several replicas of one store it compares the two. fanout
// opens many listeners, each on a TCP connection of its own read by one goroutine,
// publishes events at a steady rate and reports deliveries per second (the events
// all listeners received over the time from the first publish to the last
// delivery) and the delay from each publish's acknowledgement to each delivery
// (p50, p99). Its target is a Lattice node (GET /v1/stream, pushes to "orders") or
// Centrifugo (anonymous listeners on /connection/uni_sse subscribed to the channel
// "orders", publishes through /api/publish with the server API key; hack/centrifugo.sh
// starts one so configured). fanout raises the process's open-file limit to what
// its listeners need (setrlimit) and fails if it cannot; the server needs as many
// descriptors (ulimit -n before starting it; hack/bench-cluster.sh does).
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
		fmt.Fprintln(os.Stderr, "usage: loadgen idle|live|cross|push|fanout [flags] (see the package comment)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "idle":
		err = idle(os.Args[2:])
	case "live":
		err = liveRun(os.Args[2:])
	case "cross":
		err = cross(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	case "fanout":
		err = fanout(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: want idle, live, cross, push or fanout", os.Args[1])
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
	token := fs.String("token", "", "bearer token sent with every request (lattice serve)")
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
	cp, err := live.Checkpoint(context.Background(), *url, "orders", *token)
	if err != nil {
		return err
	}
	for i := 0; i < *n; i++ {
		s, err := live.OpenToken(context.Background(), *url, "orders", *token, cp)
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
	token := fs.String("token", "", "bearer token sent with every request (lattice serve)")
	_ = fs.Parse(args)
	return delivery(live.Config{PushURL: *url, Token: *token, Listeners: *n, Writes: *writes, Rate: *rate})
}

func cross(args []string) error {
	fs := flag.NewFlagSet("cross", flag.ExitOnError)
	pushURL := fs.String("push-url", "http://127.0.0.1:8081", "the replica that takes the pushes")
	listenURL := fs.String("listen-url", "http://127.0.0.1:8083", "the replica the streams are opened on")
	n := fs.Int("listeners", 200, "streams")
	rate := fs.Int("rate", 100, "writes per second")
	writes := fs.Int("writes", 500, "writes in all")
	token := fs.String("token", "", "bearer token sent with every request (lattice serve)")
	_ = fs.Parse(args)
	if *pushURL == *listenURL {
		return errors.New("cross wants two different replicas: -push-url and -listen-url are the same")
	}
	return delivery(live.Config{PushURL: *pushURL, ListenURL: *listenURL, Token: *token,
		Listeners: *n, Writes: *writes, Rate: *rate})
}

// delivery runs c and prints its delays (live and cross).
func delivery(c live.Config) error {
	delays, missing, err := c.Run()
	if err != nil {
		return err
	}
	if len(delays) == 0 {
		return errors.New("no event arrived")
	}
	fmt.Printf("%d streams, %d writes/s, %d deliveries: p50 %.2f ms, p99 %.2f ms, max %.2f ms, missing %d\n",
		c.Listeners, c.Rate, len(delays), live.Millis(live.Quantile(delays, 0.5)), live.Millis(live.Quantile(delays, 0.99)),
		live.Millis(delays[len(delays)-1]), missing)
	if missing > 0 {
		return fmt.Errorf("%d deliveries missing after 30 s", missing)
	}
	return nil
}
