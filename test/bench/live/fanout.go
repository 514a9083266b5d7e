package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Targets of a fan-out run.
const (
	// TargetLattice listens on GET /v1/stream?collections=orders and pushes documents
	// to the collection "orders".
	TargetLattice = "lattice"
	// TargetCentrifugo listens on Centrifugo's unidirectional SSE endpoint
	// (/connection/uni_sse, anonymous, subscribed to the channel "orders" by the
	// connect request in cf_connect) and publishes through its HTTP server API
	// (POST /api/publish with X-API-Key). hack/centrifugo.sh configures a server so.
	TargetCentrifugo = "centrifugo"
)

// FanoutConfig is one fan-out run: Listeners listeners on the server at URL, and
// Events small events published there, Rate per second, by one writer.
type FanoutConfig struct {
	// Target is TargetLattice or TargetCentrifugo.
	Target string
	URL    string
	// Token is Lattice's bearer token (none when empty); APIKey is Centrifugo's
	// server API key.
	Token, APIKey string
	Listeners     int
	Events, Rate  int
	// Parallel bounds the listeners being opened at once (default 32).
	Parallel int
	// Wait bounds the wait for deliveries after the last event (default 30 s).
	Wait time.Duration
	// checkpoint is where Lattice listeners start (the collection's end).
	checkpoint string
}

// FanoutResult is what a fan-out run measured.
type FanoutResult struct {
	// Opening is the time it took to open every listener.
	Opening time.Duration
	// Delivered counts the (listener, event) deliveries that arrived; Missing those
	// that had not arrived Wait after the last event.
	Delivered, Missing int
	// Span runs from the first event's send to the last delivery.
	Span time.Duration
	// Delays holds every delivery's delay from its event's acknowledgement (the
	// push's 200, the publish's answer; a delivery before it counts as 0), sorted.
	Delays []time.Duration
}

// PerSecond is the deliveries per second over Span.
func (r FanoutResult) PerSecond() float64 {
	if r.Span <= 0 {
		return 0
	}
	return float64(r.Delivered) / r.Span.Seconds()
}

// listener is one SSE connection of a fan-out run, read straight off its TCP
// connection by one goroutine with small buffers: tens of thousands of them must fit
// in the load generator beside the server. at[i] is when event i arrived, in
// nanoseconds after the run's start, plus one (0: not yet).
type listener struct {
	conn  net.Conn
	lines *bufio.Scanner
	at    []int64
}

// Fanout opens c.Listeners listeners, publishes c.Events events at c.Rate per
// second, waits until every listener has every event (or c.Wait has passed since the
// last), and returns what it measured.
func Fanout(c FanoutConfig) (FanoutResult, error) {
	if c.Listeners <= 0 || c.Events <= 0 || c.Rate <= 0 {
		return FanoutResult{}, errors.New("listeners, events and rate must be positive")
	}
	if c.Target != TargetLattice && c.Target != TargetCentrifugo {
		return FanoutResult{}, fmt.Errorf("unknown target %q: want %s or %s", c.Target, TargetLattice, TargetCentrifugo)
	}
	if c.Parallel <= 0 {
		c.Parallel = 32
	}
	if c.Wait <= 0 {
		c.Wait = 30 * time.Second
	}
	prefix := fmt.Sprintf("fan%d-", time.Now().UnixNano())
	if c.Target == TargetLattice {
		cp, err := Checkpoint(context.Background(), c.URL, "orders", c.Token)
		if err != nil {
			return FanoutResult{}, err
		}
		c.checkpoint = cp
	}
	start := time.Now()
	ls, err := openListeners(c)
	defer func() {
		for _, l := range ls {
			l.conn.Close()
		}
	}()
	if err != nil {
		return FanoutResult{}, err
	}
	res := FanoutResult{Opening: time.Since(start)}

	var complete, exited sync.WaitGroup
	complete.Add(len(ls))
	exited.Add(len(ls))
	for _, l := range ls {
		l.at = make([]int64, c.Events)
		go func() { defer exited.Done(); l.read(prefix, start, &complete) }()
	}
	first := time.Since(start)
	acked, err := publishAtRate(c, prefix, start)
	if err != nil {
		return FanoutResult{}, err
	}
	waitOrTimeout(&complete, c.Wait)
	for _, l := range ls {
		l.conn.Close()
	}
	exited.Wait()

	var last int64
	for _, l := range ls {
		for i, at := range l.at {
			if at == 0 {
				res.Missing++
				continue
			}
			at--
			last = max(last, at)
			res.Delivered++
			res.Delays = append(res.Delays, max(time.Duration(at-acked[i]), 0))
		}
	}
	slices.Sort(res.Delays)
	res.Span = time.Duration(last) - first
	return res, nil
}

// openListeners opens c.Listeners listeners, c.Parallel at a time.
func openListeners(c FanoutConfig) ([]*listener, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ls := make([]*listener, c.Listeners)
	errs := make(chan error, 1)
	sem := make(chan struct{}, c.Parallel)
	var wg sync.WaitGroup
	for i := range ls {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			l, err := openListener(ctx, c)
			if err != nil {
				select {
				case errs <- fmt.Errorf("listener %d: %w", i, err):
				default:
				}
				cancel()
				return
			}
			ls[i] = l
		}()
	}
	wg.Wait()
	opened := slices.DeleteFunc(ls, func(l *listener) bool { return l == nil })
	select {
	case err := <-errs:
		return opened, err
	default:
		return opened, nil
	}
}

// openListener opens one listener, retrying for up to 30 s while the server answers
// 429 or 503 (a rate limit, a full node).
func openListener(ctx context.Context, c FanoutConfig) (*listener, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, retry, err := dialListener(ctx, c)
		if err == nil || retry == 0 || time.Now().Add(retry).After(deadline) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(retry):
		}
	}
}

// dialListener sends the listener's GET on a connection of its own and reads up to
// the point where the server has subscribed it: the first line for Lattice, the
// connect reply for Centrifugo. On a 429 or 503 it also says how long to wait.
func dialListener(ctx context.Context, c FanoutConfig) (*listener, time.Duration, error) {
	req, err := listenRequest(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", req.URL.Host)
	if err != nil {
		return nil, 0, fmt.Errorf("connect: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	l, retry, err := handshake(conn, req, c.Target)
	if err != nil {
		conn.Close()
		return nil, retry, err
	}
	_ = conn.SetDeadline(time.Time{})
	return l, 0, nil
}

// listenRequest is the GET that opens a listener of c.Target.
func listenRequest(ctx context.Context, c FanoutConfig) (*http.Request, error) {
	if c.Target == TargetCentrifugo {
		q := url.Values{"cf_connect": {`{"subs":{"orders":{}}}`}}
		return http.NewRequestWithContext(ctx, "GET", c.URL+"/connection/uni_sse?"+q.Encode(), nil)
	}
	req, err := NewRequest(ctx, "GET", c.URL+"/v1/stream?collections=orders&checkpoint="+c.checkpoint, c.Token, nil)
	if err == nil {
		req.Header.Set("Accept", "text/event-stream")
	}
	return req, err
}

// handshake writes req to conn, reads the response's head and waits for the line
// that says the listener is subscribed.
func handshake(conn net.Conn, req *http.Request, target string) (*listener, time.Duration, error) {
	if err := req.Write(conn); err != nil {
		return nil, 0, fmt.Errorf("send the request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), req)
	if err != nil {
		return nil, 0, fmt.Errorf("read the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, retryAfter(resp), fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1024), 16<<20)
	l := &listener{conn: conn, lines: sc}
	for sc.Scan() {
		if target == TargetLattice {
			return l, 0, nil
		}
		// Centrifugo's first message is the connect reply; it names the channels the
		// connection was subscribed to (an unknown or forbidden one is left out).
		if line := sc.Text(); strings.HasPrefix(line, `data: {"connect"`) {
			if !strings.Contains(line, `"orders"`) {
				return nil, 0, fmt.Errorf("centrifugo did not subscribe the listener to orders: %s", line)
			}
			return l, 0, nil
		}
	}
	return nil, 0, fmt.Errorf("stream closed before it was ready: %v", sc.Err())
}

// retryAfter is how long a 429 or 503 asks to wait (1 s when it does not say), or 0
// for any other answer.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// read records when each event whose id is prefix<i> arrives, until the connection
// closes; it marks complete done once, when every event has arrived or it stops.
// It looks for the prefix in the data lines instead of decoding them, so that the
// load generator spends as little as it can per delivery.
func (l *listener) read(prefix string, start time.Time, complete *sync.WaitGroup) {
	pre := []byte(prefix)
	got, signalled := 0, false
	defer func() {
		if !signalled {
			complete.Done()
		}
	}()
	for l.lines.Scan() {
		line, ok := bytes.CutPrefix(l.lines.Bytes(), []byte("data:"))
		if !ok {
			continue
		}
		now := int64(time.Since(start)) + 1
		for {
			k := bytes.Index(line, pre)
			if k < 0 {
				break
			}
			line = line[k+len(pre):]
			i, digits := 0, 0
			for ; digits < len(line) && digits < 9 && line[digits] >= '0' && line[digits] <= '9'; digits++ {
				i = i*10 + int(line[digits]-'0')
			}
			if digits > 0 && i < len(l.at) && l.at[i] == 0 {
				l.at[i] = now
				got++
			}
		}
		if got == len(l.at) && !signalled {
			signalled = true
			complete.Done()
		}
	}
}

// publishAtRate publishes c.Events events, c.Rate per second, and returns when each
// was acknowledged, in nanoseconds after start.
func publishAtRate(c FanoutConfig, prefix string, start time.Time) ([]int64, error) {
	acked := make([]int64, c.Events)
	tick := time.NewTicker(time.Second / time.Duration(c.Rate))
	defer tick.Stop()
	client := strings.TrimSuffix(prefix, "-")
	for i := range acked {
		if i > 0 {
			<-tick.C
		}
		id := fmt.Sprint(prefix, i)
		var err error
		if c.Target == TargetCentrifugo {
			err = publishCentrifugo(c.URL, c.APIKey, id)
		} else {
			body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open"}}]}`, id, i+1)
			err = Push(context.Background(), c.URL, c.Token, client, "orders", []byte(body))
		}
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		acked[i] = int64(time.Since(start))
	}
	return acked, nil
}

// publishCentrifugo publishes {"id":id,"status":"open"} to the channel "orders"
// through Centrifugo's HTTP server API, which answers 200 with either a result or an
// error.
func publishCentrifugo(base, key, id string) error {
	body, err := json.Marshal(map[string]any{"channel": "orders", "data": map[string]string{"id": id, "status": "open"}})
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", base+"/api/publish", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := Client.Do(req)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	var reply struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("publish: decode the answer %q: %w", raw, err)
	}
	if reply.Error != nil {
		return fmt.Errorf("publish: error %d: %s", reply.Error.Code, reply.Error.Message)
	}
	return nil
}
