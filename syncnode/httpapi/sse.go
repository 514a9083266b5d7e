package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
}

// sseStream is one open event stream: it catches up from the store at its own
// cursors, joins the node's shared tails, then sends their pages as they come.
// Each collection's cursor only moves forward, so a later event for a document
// never carries an older state than an earlier one.
type sseStream struct {
	api     *API
	w       http.ResponseWriter
	rc      *http.ResponseController
	format  sseFormat
	cursors map[string]uint64
	colls   []string
}

func (a *API) newSSE(w http.ResponseWriter, f sseFormat, colls []string, cursors map[string]uint64) *sseStream {
	return &sseStream{api: a, w: w, rc: http.NewResponseController(w), format: f, cursors: cursors, colls: colls}
}

// run serves the stream until the client goes, the node drains, or the stream
// falls too far behind (cut: the client resumes with its last event id).
func (s *sseStream) run(ctx context.Context) {
	fl := s.api.feeds.NewFollower()
	defer fl.Close()
	if err := s.catchUpAndJoin(ctx, fl); err != nil {
		s.ended(ctx, err)
		return
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		var err error
		select {
		case p := <-fl.Pages:
			err = s.deliver(ctx, p)
		case <-fl.Cut():
			s.api.cfg.Logger.InfoContext(ctx, "stream cut: the client fell behind; it resumes from its last event id")
			s.api.countCut(ctx)
			return
		case <-ping.C:
			err = s.write([]byte(": ping\n\n"))
		case <-ctx.Done():
			return
		case <-s.api.drain:
			return // the node is shutting down: the client reconnects elsewhere
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
func (s *sseStream) catchUpAndJoin(ctx context.Context, fl *live.Follower) error {
	pending := s.colls
	for len(pending) > 0 {
		var behind []string
		for _, c := range pending {
			if err := s.catchUp(ctx, c); err != nil {
				return err
			}
			if !fl.Join(c, s.cursors[c]) {
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
		more = page.HasMore
		p := &live.Page{Collection: coll, From: from, To: max(from, page.Next), Records: page.Records}
		if err := s.deliver(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends the part of p after the stream's cursor, in the page's shared
// encoding when the whole page is sent.
func (s *sseStream) deliver(ctx context.Context, p *live.Page) error {
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
	span := s.api.deliverySpan(ctx, p.Collection, len(recs))
	err = s.sendData(data)
	span.End()
	s.recordLag(ctx, p.Collection)
	return err
}

// sendData writes one event with the stream's current id.
func (s *sseStream) sendData(data []byte) error {
	buf := make([]byte, 0, len(data)+128)
	if s.format.event != "" {
		buf = fmt.Appendf(buf, "event: %s\n", s.format.event)
	}
	buf = fmt.Appendf(buf, "id: %s\ndata: %s\n\n", s.format.id(s.cursors), data)
	return s.write(buf)
}

// write sends b and flushes it, giving up after streamWriteTimeout.
func (s *sseStream) write(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// beginSSE answers 200 with the headers of an event stream and its reconnection
// delay in milliseconds; nothing is flushed yet.
func beginSSE(w http.ResponseWriter, retryMillis int) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", retryMillis)
}

// countCut records a stream cut for falling behind.
func (a *API) countCut(ctx context.Context) {
	if in := a.cfg.Instruments; in != nil {
		in.StreamCuts.Add(context.WithoutCancel(ctx), 1)
	}
}

// admitStream counts a new stream against MaxStreams; release uncounts it.
func (a *API) admitStream(ctx context.Context) (release func(), err error) {
	if n := a.streams.Add(1); a.cfg.MaxStreams > 0 && n > int64(a.cfg.MaxStreams) {
		a.streams.Add(-1)
		e := errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable,
			"this node has its maximum of %d streams open; retry, or connect to another node", a.cfg.MaxStreams)
		e.retryAfter = 5
		return nil, e
	}
	if in := a.cfg.Instruments; in != nil {
		in.Connections.Add(ctx, 1)
	}
	return func() {
		a.streams.Add(-1)
		if in := a.cfg.Instruments; in != nil {
			in.Connections.Add(context.WithoutCancel(ctx), -1)
		}
	}, nil
}
