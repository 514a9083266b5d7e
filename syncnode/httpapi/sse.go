package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/live"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// pingEvery is how often an idle stream gets a comment line (PROTOCOL.md: <= 15 s).
const pingEvery = 15 * time.Second

// streamWriteTimeout bounds one write to a stream: a client that reads nothing for
// that long is disconnected (its queue overflowing has usually cut it before).
const streamWriteTimeout = 30 * time.Second

// sseFormat is what distinguishes the native stream from the adapters' streams.
type sseFormat struct {
	// name keys the shared encodings of a page ("native", "rxdb", ...).
	name string
	// event is the SSE event name ("" for unnamed events).
	event string
	// id returns the event id for the stream's cursors.
	id func(cursors map[string]uint64) string
	// encoder returns the encoder of one collection's pages.
	encoder func(collection string) live.Encoder
	// retryMillis is the reconnection delay the stream announces.
	retryMillis int
}

// sseOut is where a stream's bytes go: the ResponseWriter, or the connection
// itself once the stream is detached from its goroutine (detached.go).
type sseOut interface {
	// write sends b at once, or fails after streamWriteTimeout.
	write(b []byte) error
	// writeEvent sends head, data and the blank line that ends an event, at once.
	writeEvent(head, data []byte) error
}

// responseOut writes through the ResponseWriter and flushes.
type responseOut struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (o responseOut) write(b []byte) error {
	_ = o.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	return o.rc.Flush()
}

func (o responseOut) writeEvent(head, data []byte) error {
	_ = o.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	for _, b := range [][]byte{head, data, eventEnd} {
		if _, err := o.w.Write(b); err != nil {
			return err
		}
	}
	return o.rc.Flush()
}

// eventEnd ends an event's data line and the event.
var eventEnd = []byte("\n\n")

// pingLine is the comment an idle stream gets every pingEvery.
var pingLine = []byte(": ping\n\n")

// sseStream is one open event stream: it catches up from the store at its own
// cursors, joins the node's shared tails, then sends their pages as they come.
// Each collection's cursor only moves forward, so a later event for a document
// never carries an older state than an earlier one.
type sseStream struct {
	api     *API
	out     sseOut
	format  sseFormat
	cursors map[string]uint64
	colls   []string
	fl      *live.Follower
}

// streamSpec is what a stream endpoint decided: its format, collections, starting
// cursors and, for the adapters, a first event.
type streamSpec struct {
	format  sseFormat
	colls   []string
	cursors map[string]uint64
	// first, when set, is the data of an event sent before anything else.
	first func(cursors map[string]uint64) ([]byte, error)
	// expires, when set, is when the client's token expires: the stream ends then
	// and the client reconnects with a fresh one.
	expires time.Time
	// caller is whom the stream counts against (callerKey).
	caller string
}

// serveStream serves an admitted stream: detached from its goroutine when the
// connection allows (HTTP/1.x), else in this goroutine until it ends.
func (a *API) serveStream(w http.ResponseWriter, r *http.Request, spec streamSpec) error {
	release, err := a.admitStream(r.Context(), spec.caller)
	if err != nil {
		return err
	}
	s := &sseStream{api: a, format: spec.format, cursors: spec.cursors, colls: spec.colls}
	if d := a.detach(w, s, release); d != nil {
		d.start(r.Context(), spec.first, spec.expires)
		return nil
	}
	defer release()
	beginSSE(w, spec.format.retryMillis)
	s.out = responseOut{w: w, rc: http.NewResponseController(w)}
	ready := make(chan struct{}, 1)
	s.fl = a.feeds.NewFollower(func() { signal(ready) }, nil)
	defer s.fl.Close()
	if err := s.open(r.Context(), spec.first); err != nil {
		s.ended(r.Context(), err)
		return nil
	}
	expired := make(<-chan time.Time)
	if !spec.expires.IsZero() {
		t := time.NewTimer(time.Until(spec.expires))
		defer t.Stop()
		expired = t.C
	}
	s.run(r.Context(), ready, expired)
	return nil
}

// signal wakes whoever waits on c (capacity 1) without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// open sends the first event, if any, then catches up and joins the tails.
func (s *sseStream) open(ctx context.Context, first func(map[string]uint64) ([]byte, error)) error {
	if first != nil {
		data, err := first(s.cursors)
		if err != nil {
			return fmt.Errorf("encode the first event: %w", err)
		}
		if err := s.sendData(data); err != nil {
			return err
		}
	} else if err := s.out.write(nil); err != nil {
		return err
	}
	return s.catchUpAndJoin(ctx)
}

// run serves the stream in this goroutine until the client goes, the node drains,
// the client's token expires, or the stream falls too far behind (cut: the client
// resumes with its last id).
func (s *sseStream) run(ctx context.Context, ready <-chan struct{}, expired <-chan time.Time) {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-ready:
			err = s.deliverQueued(ctx)
		case <-s.fl.Cut():
			s.api.cutStream(ctx)
			return
		case <-ping.C:
			err = s.out.write(pingLine)
		case <-ctx.Done():
			return
		case <-s.api.drain:
			return // the node is shutting down: the client reconnects elsewhere
		case <-expired:
			return // the token expired: the client reconnects with a fresh one
		}
		if err != nil {
			s.ended(ctx, err)
			return
		}
	}
}

func (s *sseStream) ended(ctx context.Context, err error) {
	if !errors.Is(err, context.Canceled) {
		s.api.cfg.Logger.DebugContext(ctx, "stream ended", "err", err)
	}
}

// catchUpAndJoin reads each collection from the store until the stream can join
// the collection's tail without a gap.
func (s *sseStream) catchUpAndJoin(ctx context.Context) error {
	pending := s.colls
	for len(pending) > 0 {
		var behind []string
		for _, c := range pending {
			if err := s.catchUp(ctx, c); err != nil {
				return err
			}
			if !s.fl.Join(c, s.cursors[c]) {
				behind = append(behind, c)
			}
		}
		pending = behind
	}
	return nil
}

// catchUp sends every change of collection after its cursor, page by page.
func (s *sseStream) catchUp(ctx context.Context, coll string) error {
	for more := true; more; {
		from := s.cursors[coll]
		page, err := s.api.cfg.Store.Changes(ctx, coll, from, s.api.cfg.DefaultPullLimit)
		if err != nil {
			return fmt.Errorf("read feed of %s: %w", coll, err)
		}
		page = page.Within(s.api.cfg.MaxPageBytes)
		more = page.HasMore
		p := &live.Page{Collection: coll, From: from, To: max(from, page.Next), Records: page.Records}
		if err := s.deliver(p); err != nil {
			return err
		}
	}
	return nil
}

// deliverQueued sends every page the tails queued.
func (s *sseStream) deliverQueued(ctx context.Context) error {
	for _, p := range s.fl.Take() {
		if err := s.deliver(p); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends the part of p after the stream's cursor, in the page's shared
// encoding when the whole page is sent.
func (s *sseStream) deliver(p *live.Page) error {
	cursor := s.cursors[p.Collection]
	recs, shared := p.After(cursor)
	s.cursors[p.Collection] = max(cursor, p.To)
	if len(recs) == 0 {
		return nil
	}
	enc := s.format.encoder(p.Collection)
	var data []byte
	var err error
	if shared {
		data, err = p.Encoded(s.format.name, enc)
	} else {
		data, err = enc(store.Page{Records: recs, Next: p.To})
	}
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return s.sendData(data)
}

// sendData writes one event with the stream's current id; data (often a page's
// shared encoding) is not copied.
func (s *sseStream) sendData(data []byte) error {
	head := make([]byte, 0, 96)
	if s.format.event != "" {
		head = append(append(append(head, "event: "...), s.format.event...), '\n')
	}
	head = append(append(head, "id: "...), s.format.id(s.cursors)...)
	head = append(head, "\ndata: "...)
	return s.out.writeEvent(head, data)
}

// beginSSE answers 200 with the headers of an event stream and its reconnection
// delay in milliseconds; nothing is flushed yet.
func beginSSE(w http.ResponseWriter, retryMillis int) {
	setSSEHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", retryMillis)
}

// setSSEHeaders sets the headers of an event stream (no caching, no proxy
// buffering).
func setSSEHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}

// cutStream records a stream cut for falling behind.
func (a *API) cutStream(ctx context.Context) {
	a.cfg.Logger.DebugContext(ctx, "stream cut: the client fell behind; it resumes from its last event id")
	if in := a.cfg.Instruments; in != nil {
		in.StreamCuts.Add(context.WithoutCancel(ctx), 1)
	}
}

// admitStream counts a new stream against MaxStreams and the caller's
// MaxStreamsPerSubject; release uncounts it.
func (a *API) admitStream(ctx context.Context, caller string) (release func(), err error) {
	if !a.perSub.add(caller, a.cfg.MaxStreamsPerSubject) {
		return nil, errorf(http.StatusTooManyRequests, protocol.CodeRateLimited,
			"this user has its maximum of %d streams open on this node; close one first", a.cfg.MaxStreamsPerSubject)
	}
	if n := a.streams.Add(1); a.cfg.MaxStreams > 0 && n > int64(a.cfg.MaxStreams) {
		a.perSub.remove(caller)
		a.streams.Add(-1)
		e := errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable,
			"this node has its maximum of %d streams open; retry, or connect to another node", a.cfg.MaxStreams)
		e.retryAfter = 5
		return nil, e
	}
	ctx = context.WithoutCancel(ctx)
	if in := a.cfg.Instruments; in != nil {
		in.Connections.Add(ctx, 1)
	}
	return func() {
		a.streams.Add(-1)
		a.perSub.remove(caller)
		if in := a.cfg.Instruments; in != nil {
			in.Connections.Add(ctx, -1)
		}
	}, nil
}

// subjectStreams counts each caller's open streams.
type subjectStreams struct {
	mu sync.Mutex
	n  map[string]int
}

// add counts one more stream of caller; false if that would pass limit (0: none).
func (s *subjectStreams) add(caller string, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit > 0 && s.n[caller] >= limit {
		return false
	}
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[caller]++
	return true
}

func (s *subjectStreams) remove(caller string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[caller]--; s.n[caller] <= 0 {
		delete(s.n, caller)
	}
}
