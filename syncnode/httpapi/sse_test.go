package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/live"
)

func TestStreamLimitAnswers503WithRetryAfter(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) { c.MaxStreams = 1 })
	n.openStream(t, "collections=orders", "")
	resp, err := http.Get(n.srv.URL + "/v1/stream?collections=orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("stream past the limit: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, err = http.Get(n.srv.URL + "/v1/rxdb/orders/stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("adapter stream past the limit: %d", resp.StatusCode)
	}
}

// TestSlowClientIsCutAndResumesWithoutLoss: a client that reads nothing while
// 10 MB of changes go by is cut (others are not held back), and resuming with the
// last id it received brings every change.
func TestSlowClientIsCutAndResumesWithoutLoss(t *testing.T) {
	var feeds *live.Feeds
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) {
		feeds = live.New(context.Background(), live.Config{Store: c.Store, Hub: c.Hub, QueuePages: 2})
		c.Feeds = feeds
	})
	resp, err := http.Get(n.srv.URL + "/v1/stream?collections=orders")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fast := n.openStream(t, "collections=orders", "")
	big := strings.Repeat("x", 50<<10)
	const total = 200
	for i := range total {
		if s, _, bad := n.push("c1", fmt.Sprintf(`{"mutations":[{"id":"d%03d","mid":%d,"set":{"pad":%q}}]}`, i, i+1, big)); s != 200 {
			t.Fatalf("push %d: %d %+v", i, s, bad)
		}
		next(t, fast) // a reading client keeps up throughout
	}
	for deadline := time.Now().Add(10 * time.Second); feeds.Cuts() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the client that read nothing was not cut")
		}
	}
	seen, lastID := readAllEvents(t, resp)
	if len(seen) == total {
		t.Fatal("the cut stream had everything: the test did not fill its buffers")
	}
	resumed := n.openStream(t, "collections=orders", lastID)
	for len(seen) < total {
		_, sc := next(t, resumed)
		for _, c := range sc.Changes {
			seen[c.ID] = true
		}
	}
}

// readAllEvents reads a stream to its end, as an EventSource would: an event
// counts (its id and its documents) only once complete.
func readAllEvents(t *testing.T, resp *http.Response) (map[string]bool, string) {
	seen, lastID := map[string]bool{}, ""
	var id, data string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "" && data != "":
			for _, part := range strings.Split(data, `{"id":"`)[1:] {
				seen[part[:4]] = true
			}
			lastID, data = id, ""
		}
	}
	return seen, lastID
}

// TestStreamOverHTTP2 covers streams that cannot be detached from their goroutine
// (HTTP/2 has no connection to take over): the same events, backlog then live.
func TestStreamOverHTTP2(t *testing.T) {
	n := newTestNode(t, openStore(t))
	h2 := httptest.NewUnstartedServer(n.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	n.push("c1", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h2.URL+"/v1/stream?collections=orders", nil)
	resp, err := h2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Fatalf("stream over %s: %d", resp.Proto, resp.StatusCode)
	}
	lines := bufio.NewScanner(resp.Body)
	waitData := func(want string) {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "data: ") && strings.Contains(lines.Text(), want) {
				return
			}
		}
		t.Fatalf("stream ended before %s: %v", want, lines.Err())
	}
	waitData(`"id":"a"`)
	n.push("c1", `{"mutations":[{"id":"b","mid":2,"set":{"x":2}}]}`)
	waitData(`"id":"b"`)
}

// TestAClosedStreamIsNoticedAtOnce: a detached stream whose client hangs up stops
// counting against the limits right away, not at its next ping.
func TestAClosedStreamIsNoticedAtOnce(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) { c.MaxStreams = 1 })
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", n.srv.URL+"/v1/stream?collections=orders", nil)
		var resp *http.Response
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			if resp, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 200 {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("stream %d: still %d 3 s after the previous client hung up", i, resp.StatusCode)
			}
		}
		cancel() // the client hangs up
		resp.Body.Close()
	}
}
