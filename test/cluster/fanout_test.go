package cluster_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPushOnOneReplicaReachesEveryStreamOnTheOthers: native, RxDB and SignalDB
// streams on replicas 2 and 3 all get a push made through replica 1.
func TestPushOnOneReplicaReachesEveryStreamOnTheOthers(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var streams []<-chan sseEvent
	for _, n := range []int{2, 3} {
		for _, path := range []string{"/v1/stream?collections=orders", "/v1/rxdb/orders/stream", "/v1/signaldb/orders/stream"} {
			events, err := c.openStream(ctx, n, path, "")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(path, "/v1/stream") {
				<-events // the adapters' first event tells the client to pull
			}
			streams = append(streams, events)
		}
	}
	status, body, err := c.push(ctx, 1, "orders", "tablet-7", `{"mutations":[{"id":"wo-42","mid":1,"set":{"status":"open"}}]}`)
	if err != nil || status != 200 {
		t.Fatalf("push: %d %s %v", status, body, err)
	}
	for _, events := range streams {
		waitFor(t, events, `"wo-42"`, 10*time.Second)
	}
}

// TestTrimmedHistoryNeverLeavesAGap: a replica frozen while the Redis stream is
// trimmed past its position still brings its stream every change once it thaws.
func TestTrimmedHistoryNeverLeavesAGap(t *testing.T) {
	c := startCluster(t, "LATTICE_CLUSTER_MAXLEN=100")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := c.openStream(ctx, 2, "/v1/stream?collections=trim", "")
	if err != nil {
		t.Fatal(err)
	}
	pid := c.pid("replica-2")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	const total = 400
	for i := range total {
		body := fmt.Sprintf(`{"mutations":[{"id":"d%03d","mid":%d,"set":{"n":%d}}]}`, i, i+1, i)
		if status, out, err := c.push(ctx, 1, "trim", "writer", body); err != nil || status != 200 {
			_ = syscall.Kill(pid, syscall.SIGCONT)
			t.Fatalf("push %d: %d %s %v", i, status, out, err)
		}
	}
	if n := streamLength(t, c); n >= total {
		t.Fatalf("the stream holds %d entries: nothing was trimmed", n)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < total {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			for _, part := range strings.Split(ev.data, `{"id":"`)[1:] {
				seen[part[:4]] = true
			}
		case <-deadline:
			t.Fatalf("the thawed replica's stream brought %d of %d documents", len(seen), total)
		}
	}
}

// streamLength returns the length of the cluster's Redis stream.
func streamLength(t *testing.T, c *cluster) int {
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(c.port+10), "XLEN", "lattice:events:local").Output()
	if err != nil {
		t.Fatalf("redis-cli XLEN: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("XLEN answered %q", out)
	}
	return n
}
