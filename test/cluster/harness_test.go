// Package cluster_test runs multi-process tests against a local cluster started by
// hack/cluster.sh: a real redis-server, FerretDB behind the write-serialising proxy
// (hack/ferretdb) and three `lattice serve` processes.
package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cluster is one running local cluster.
type cluster struct {
	t     *testing.T
	root  string
	dir   string
	port  int
	env   []string
	token string
}

// startCluster brings a cluster up in a fresh directory on free ports; it is
// taken down when t ends. extraEnv adds LATTICE_CLUSTER_* settings.
func startCluster(t *testing.T, extraEnv ...string) *cluster {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, root: root}
	for attempt := 1; ; attempt++ { // a port found free can be taken before the cluster binds it
		c.dir, c.port = t.TempDir(), freeBase(t)
		c.env = append([]string{"LATTICE_CLUSTER_DIR=" + c.dir, "LATTICE_CLUSTER_PORT=" + strconv.Itoa(c.port)}, extraEnv...)
		out, err := c.sh("up")
		if err == nil {
			break
		}
		c.sh("down")
		if attempt == 3 {
			t.Fatalf("hack/cluster.sh up: %v\n%s", err, out)
		}
		t.Logf("hack/cluster.sh up failed (attempt %d), trying other ports: %v\n%s", attempt, err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"1", "2", "3"} {
				t.Logf("replica %s log (tail):\n%s", n, tail(c.sh("logs", n)))
			}
		}
		c.sh("down")
	})
	c.token = strings.TrimSpace(c.mustSh("token"))
	return c
}

// freeBase finds a base port whose replica, Redis and FerretDB ports are all free.
func freeBase(t *testing.T) int {
	for range 100 {
		base := 20000 + rand.IntN(12000) // below the ephemeral range (32768-), which other tests' sockets use
		if portsFree(base, base+1, base+2, base+10, base+11) {
			return base
		}
	}
	t.Fatal("no free ports for a cluster")
	return 0
}

func portsFree(ports ...int) bool {
	for _, p := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// sh runs hack/cluster.sh with args and returns its combined output.
func (c *cluster) sh(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(c.root, "hack/cluster.sh")}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) mustSh(args ...string) string {
	c.t.Helper()
	out, err := c.sh(args...)
	if err != nil {
		c.t.Fatalf("hack/cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func tail(s string, _ error) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// url returns replica n's base URL (n from 1).
func (c *cluster) url(n int) string { return "http://127.0.0.1:" + strconv.Itoa(c.port+n-1) }

// pid returns the pid of a cluster process ("replica-2", "redis").
func (c *cluster) pid(name string) int {
	c.t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.dir, "run", name+".pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		c.t.Fatal(err)
	}
	return pid
}

// request sends an authenticated request to replica n.
func (c *cluster) request(ctx context.Context, n int, method, path, client, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(n)+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if client != "" {
		req.Header.Set("Lattice-Client", client)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return http.DefaultClient.Do(req)
}

// push sends one push to replica n and returns the status and body.
func (c *cluster) push(ctx context.Context, n int, coll, client, body string) (int, string, error) {
	resp, err := c.request(ctx, n, "POST", "/v1/collections/"+coll+"/push", client, body)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// sseEvent is one Server-Sent Event as an EventSource dispatches it.
type sseEvent struct {
	id, data string
}

// openStream connects to path on replica n and returns its events; the channel
// closes when the stream ends.
func (c *cluster) openStream(ctx context.Context, n int, path, lastEventID string) (<-chan sseEvent, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.url(n)+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, fmt.Errorf("stream %s on replica %d: status %d", path, n, resp.StatusCode)
	}
	out := make(chan sseEvent, 64)
	go readEvents(resp.Body, out)
	return out, nil
}

func readEvents(body io.ReadCloser, out chan<- sseEvent) {
	defer close(out)
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		case line == "" && ev.data != "":
			out <- ev
			ev = sseEvent{}
		}
	}
}

// waitFor reads events until one's data contains want, or fails after timeout.
func waitFor(t *testing.T, events <-chan sseEvent, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if strings.Contains(ev.data, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %s", want, timeout)
		}
	}
}
