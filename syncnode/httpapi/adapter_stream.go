package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/lattice-sync/lattice/api/protocol"
	"time"

	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// pageEncoder turns one page of the store feed into an adapter's event data.
type pageEncoder func(page store.Page) (any, error)

// resyncData is the first event's data of a stream starting at cursor.
type resyncData func(cursor uint64) any

// adapterStream serves an adapter's SSE stream of one collection: unnamed events
// whose id is a feed checkpoint (resumable with Last-Event-ID). Like /v1/stream, each
// wake-up re-reads the store feed from the stream's cursor. A new connection first
// gets the resync data (the client pulls from its own checkpoint), then every change
// after the feed position read before that event was sent.
func (a *API) adapterStream(resync resyncData, enc pageEncoder) handlerFunc {
	return func(w http.ResponseWriter, req *request) error {
		flusher, ok := w.(http.Flusher)
		if !ok {
			return errorf(http.StatusInternalServerError, protocol.CodeInternal, "streaming unsupported")
		}
		cursor, err := a.streamStart(req)
		if err != nil {
			return err
		}
		beginSSE(w, 1000)
		s := &adapterSSE{api: a, w: w, flusher: flusher, coll: req.collection.Name, cursor: cursor, enc: enc}
		if err := s.send(resync(cursor)); err != nil {
			return nil
		}
		s.loop(req.r.Context())
		return nil
	}
}

// streamStart resumes from Last-Event-ID, or finds the feed's current end.
func (a *API) streamStart(req *request) (uint64, error) {
	if id := req.r.Header.Get("Last-Event-ID"); id != "" {
		seq, err := feed.Parse(id)
		if err != nil {
			return 0, errorf(http.StatusBadRequest, "invalid_checkpoint", "Last-Event-ID: %v", err)
		}
		return seq, nil
	}
	head, err := a.cfg.Store.Head(req.r.Context(), req.collection.Name)
	if err != nil {
		return 0, fmt.Errorf("find the feed's end: %w", err)
	}
	return head, nil
}

type adapterSSE struct {
	api     *API
	w       http.ResponseWriter
	flusher http.Flusher
	coll    string
	cursor  uint64
	enc     pageEncoder
}

func (s *adapterSSE) loop(ctx context.Context) {
	sub := s.api.cfg.Hub.Subscribe([]string{s.coll})
	defer s.api.cfg.Hub.Unsubscribe(sub)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		if err := s.catchUp(ctx); err != nil {
			return
		}
		select {
		case <-sub.C:
		case <-ping.C:
			fmt.Fprint(s.w, ": ping\n\n")
			s.flusher.Flush()
		case <-ctx.Done():
			return
		case <-s.api.drain:
			return
		}
	}
}

func (s *adapterSSE) catchUp(ctx context.Context) error {
	for more := true; more; {
		page, err := s.api.cfg.Store.Changes(ctx, s.coll, s.cursor, s.api.cfg.DefaultPullLimit)
		if err != nil {
			return fmt.Errorf("read feed of %s: %w", s.coll, err)
		}
		more = page.HasMore
		s.cursor = max(s.cursor, page.Next)
		if len(page.Records) == 0 {
			continue
		}
		data, err := s.enc(page)
		if err != nil {
			return err
		}
		span := s.api.deliverySpan(ctx, s.coll, len(page.Records))
		err = s.send(data)
		span.End()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *adapterSSE) send(data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	_, err = fmt.Fprintf(s.w, "id: %s\ndata: %s\n\n", feed.Encode(s.cursor), raw)
	s.flusher.Flush()
	return err
}
