package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/store"
)

const readyTimeout = 2 * time.Second

func (a *API) push(w http.ResponseWriter, req *request) error {
	raw, err := a.readBody(req.r)
	if err != nil {
		return err
	}
	body, fast := decodePushFast(raw)
	if !fast {
		if err := decodeJSON(raw, &body); err != nil {
			return err
		}
	}
	if len(body.Mutations) == 0 {
		return errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "push has no mutations")
	}
	if len(body.Mutations) > a.cfg.MaxBatch {
		return errorf(http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, "push has %d mutations, limit is %d",
			len(body.Mutations), a.cfg.MaxBatch).with("limit", a.cfg.MaxBatch)
	}
	writer, err := writerOf(req.r, req.principal)
	if err != nil {
		return err
	}
	res, err := a.cfg.Engine.Push(req.r.Context(), req.collection, writer, body.Mutations)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, protocol.PushResponse{Results: res.Versions, Checkpoint: feed.Encode(res.Seq)})
	return nil
}

// decodeBody reads one JSON value into v, refusing oversized bodies, syntax errors,
// wrong types, unknown fields and trailing data.
func (a *API) decodeBody(r *http.Request, v any) error {
	raw, err := a.readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(raw, v)
}

// readBody reads the request body, refusing one over the size limit.
func (a *API) readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, a.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, "body over %d bytes", a.cfg.MaxBodyBytes).with("limit", a.cfg.MaxBodyBytes)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "reading body: %v", err)
	}
	return raw, nil
}

// decodeJSON decodes raw, one JSON value, into v, refusing syntax errors, wrong
// types, unknown fields, trailing data and whatever encoding/json would alter
// instead of refusing (strictJSON).
func decodeJSON(raw []byte, v any) error {
	if err := strictJSON(raw, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "trailing data after the JSON body")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "malformed JSON: %v", err)
	case errors.As(err, &typ):
		return errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "field %q must be %s, got %s", typ.Field, typ.Type, typ.Value).with("field", typ.Field)
	}
	return errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "%v", err)
}

func (a *API) pull(w http.ResponseWriter, req *request) error {
	q := req.r.URL.Query()
	after, err := feed.Parse(q.Get("checkpoint"))
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid_checkpoint", "%v", err).with("checkpoint", q.Get("checkpoint"))
	}
	limit, err := a.pullLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	if err := a.retention.ack(req.r, req.principal, req.collection.Name, after); err != nil {
		return err
	}
	page, err := a.cfg.Store.Changes(req.r.Context(), req.collection.Name, after, limit)
	if err != nil {
		return err
	}
	page = page.Within(a.cfg.MaxPageBytes)
	resp := protocol.PullResponse{Changes: make([]protocol.Change, 0, len(page.Records)),
		Checkpoint: feed.Encode(page.Next), HasMore: page.HasMore, SchemaVersion: req.collection.Schema.Version}
	resp.Changes = append(resp.Changes, toChanges(page.Records)...)
	if q.Get("clocks") == "1" {
		if err := addClocks(resp.Changes, page.Records); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) pullLimit(s string) (int, error) {
	if s == "" {
		return a.cfg.DefaultPullLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > a.cfg.MaxPullLimit {
		return 0, errorf(http.StatusBadRequest, "invalid_parameter", "limit must be an integer from 1 to %d", a.cfg.MaxPullLimit).with("parameter", "limit")
	}
	return n, nil
}

func (a *API) schema(w http.ResponseWriter, req *request) error {
	s := req.collection.Schema
	writeJSON(w, http.StatusOK, protocol.SchemaResponse{Collection: req.collection.Name, Version: s.Version, Schema: s.Raw, Types: s.Types})
	return nil
}

func toChanges(recs []store.Record) []protocol.Change {
	out := make([]protocol.Change, 0, len(recs))
	for _, rec := range recs {
		out = append(out, protocol.Change{ID: rec.ID, Deleted: rec.Deleted, Version: rec.Version, Doc: rec.Doc})
	}
	return out
}

// addClocks fills in each change's per-path clocks from its stored state.
func addClocks(changes []protocol.Change, recs []store.Record) error {
	for i, rec := range recs {
		d, err := crdt.UnmarshalDoc(rec.ID, rec.State)
		if err != nil {
			return fmt.Errorf("stored state of %s: %w", rec.ID, err)
		}
		changes[i].Clocks = d.Clocks()
	}
	return nil
}
