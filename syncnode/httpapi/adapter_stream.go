package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/live"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// pageEncoder turns one page of the store feed into an adapter's event data.
type pageEncoder func(page store.Page) (any, error)

// resyncData is the first event's data of a stream starting at cursor.
type resyncData func(cursor uint64) any

// adapterStream serves an adapter's SSE stream of one collection: unnamed events
// whose id is a feed checkpoint (resumable with Last-Event-ID), through the same
// machinery as /v1/stream (sseStream). A new connection first gets the resync data
// (the client pulls from its own checkpoint), then every change after the feed
// position read before that event was sent.
func (a *API) adapterStream(format string, resync resyncData, enc pageEncoder) handlerFunc {
	return func(w http.ResponseWriter, req *request) error {
		cursor, err := a.streamStart(req)
		if err != nil {
			return err
		}
		coll := req.collection.Name
		f := sseFormat{name: format, retryMillis: 1000, id: func(c map[string]uint64) string { return feed.Encode(c[coll]) },
			encoder: func(string) live.Encoder { return jsonEncoder(enc) }}
		first := func(c map[string]uint64) ([]byte, error) { return json.Marshal(resync(c[coll])) }
		return a.serveStream(w, req.r, streamSpec{format: f, colls: []string{coll},
			cursors: map[string]uint64{coll: cursor}, first: first, expires: req.principal.Expires,
			caller: callerKey(req.r, req.principal)})
	}
}

// jsonEncoder encodes what enc returns as JSON.
func jsonEncoder(enc pageEncoder) live.Encoder {
	return func(page store.Page) ([]byte, error) {
		v, err := enc(page)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
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
