// Package live measures live delivery over GET /v1/stream: streams that record when
// each document of a run arrives, a writer that pushes at a steady rate, and the
// delay from each push's 200 to each stream's event (an event that arrives before
// the 200 counts as 0). The writes may go to one node and the streams to another
// (Config), and every request may carry a bearer token (lattice serve). Fanout
// (fanout.go) measures delivery to many listeners, of Lattice or of Centrifugo. The
// benchmark in syncnode/httpapi and the load generator in test/bench/loadgen share
// it.
package live

import (
	"bufio"
	"bytes"
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
	return OpenToken(ctx, url, coll, "", "")
}

// OpenToken is Open with a bearer token ("" sends none), as lattice serve wants,
// starting after a pull checkpoint ("" for the beginning; see Checkpoint).
func OpenToken(ctx context.Context, url, coll, token, checkpoint string) (*Stream, error) {
	req, err := NewRequest(ctx, "GET", url+"/v1/stream?collections="+coll+"&checkpoint="+checkpoint, token, nil)
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

// Checkpoint pulls coll to its end and returns the checkpoint there, so streams
// start live instead of sending the whole collection first (and each measured
// delivery is a live one).
func Checkpoint(ctx context.Context, url, coll, token string) (string, error) {
	cp := ""
	for {
		req, err := NewRequest(ctx, "GET", url+"/v1/collections/"+coll+"/pull?limit=10000&checkpoint="+cp, token, nil)
		if err != nil {
			return "", err
		}
		resp, err := Client.Do(req)
		if err != nil {
			return "", fmt.Errorf("pull: %w", err)
		}
		var page struct {
			Checkpoint string `json:"checkpoint"`
			HasMore    bool   `json:"hasMore"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("pull: %s %v", resp.Status, err)
		}
		if cp = page.Checkpoint; !page.HasMore {
			return cp, nil
		}
	}
}

// NewRequest is http.NewRequestWithContext with "Authorization: Bearer <token>"
// unless token is empty.
func NewRequest(ctx context.Context, method, url, token string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// Push sends body (a push request's JSON) to collection coll of the node at url as
// Lattice-Client client, and fails unless the node answers 200.
func Push(ctx context.Context, url, token, client, coll string, body []byte) error {
	req, err := NewRequest(ctx, "POST", url+"/v1/collections/"+coll+"/push", token, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Lattice-Client", client)
	req.Header.Set("Content-Type", "application/json")
	resp, err := Client.Do(req)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // to the end, so the connection is reused
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// arrivals records when one stream received each document of a run.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time
}

// read consumes s until it has seen want documents whose ids start with prefix.
// It looks for the ids in the data lines instead of decoding them as JSON, so the
// load generator's own CPU (it shares the machine) weighs less on the figures.
func (a *arrivals) read(s *Stream, prefix string, want int) {
	marker := []byte(`"id":"` + prefix)
	for s.lines.Scan() {
		line := s.lines.Bytes()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		now := time.Now()
		a.mu.Lock()
		for rest := line; ; {
			i := bytes.Index(rest, marker)
			if i < 0 {
				break
			}
			rest = rest[i+len(`"id":"`):]
			end := bytes.IndexByte(rest, '"')
			if end < 0 {
				break
			}
			a.at[string(rest[:end])] = now
			rest = rest[end:]
		}
		n := len(a.at)
		a.mu.Unlock()
		if n >= want {
			return
		}
	}
}

// Config is one live-delivery run: Listeners streams of the collection "orders" on
// ListenURL (PushURL when empty), and Writes documents pushed to PushURL, Rate per
// second, by one writer. Token, when set, goes with every request as a bearer token.
type Config struct {
	PushURL, ListenURL, Token string
	Listeners, Writes, Rate   int
}

// Run opens listeners streams on the node at url, pushes writes documents to the
// collection "orders", rate per second, and returns every (stream, write) delay,
// sorted, and how many deliveries had not arrived 30 s after the last push.
func Run(url string, listeners, writes, rate int) ([]time.Duration, int, error) {
	return Config{PushURL: url, Listeners: listeners, Writes: writes, Rate: rate}.Run()
}

// Run measures c as the function Run does: every (stream, write) delay from the
// push's 200 to the event's arrival, sorted, and how many deliveries had not arrived
// 30 s after the last push.
func (c Config) Run() ([]time.Duration, int, error) {
	if c.Listeners <= 0 || c.Writes <= 0 || c.Rate <= 0 {
		return nil, 0, errors.New("listeners, writes and rate must be positive")
	}
	listen := c.ListenURL
	if listen == "" {
		listen = c.PushURL
	}
	prefix := fmt.Sprintf("live%d-", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cp, err := Checkpoint(ctx, listen, "orders", c.Token)
	if err != nil {
		return nil, 0, err
	}
	logs := make([]*arrivals, c.Listeners)
	var done sync.WaitGroup
	for i := range logs {
		s, err := OpenToken(ctx, listen, "orders", c.Token, cp)
		if err != nil {
			return nil, 0, fmt.Errorf("stream %d: %w", i, err)
		}
		logs[i] = &arrivals{at: map[string]time.Time{}}
		done.Add(1)
		go func() { defer done.Done(); defer s.Close(); logs[i].read(s, prefix, c.Writes) }()
	}
	acked, err := pushAtRate(c.PushURL, c.Token, prefix, c.Writes, c.Rate)
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
func pushAtRate(url, token, prefix string, writes, rate int) (map[string]time.Time, error) {
	acked := make(map[string]time.Time, writes)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	client := strings.TrimSuffix(prefix, "-")
	for i := 0; i < writes; i++ {
		<-tick.C
		id := fmt.Sprint(prefix, i)
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open"}}]}`, id, i+1)
		if err := Push(context.Background(), url, token, client, "orders", []byte(body)); err != nil {
			return nil, err
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
