package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/feed"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// pingEvery is how often an idle stream gets a comment line (PROTOCOL.md: <= 15 s).
const pingEvery = 15 * time.Second

// stream serves GET /v1/stream: every change of the listed collections after the
// client's position, then live ones. Each wake-up re-reads the store feed from the
// stream's own cursors, so a missed or coalesced notification never loses a change,
// and a document's later state never precedes an earlier one.
func (a *API) stream(w http.ResponseWriter, r *http.Request) {
	colls, cursors, err := a.openStream(r)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, errorf(http.StatusInternalServerError, protocol.CodeInternal, "streaming unsupported"))
		return
	}
	beginSSE(w, 2000)
	flusher.Flush()
	sub := a.cfg.Hub.Subscribe(colls)
	defer a.cfg.Hub.Unsubscribe(sub)
	if in := a.cfg.Instruments; in != nil {
		in.Connections.Add(r.Context(), 1)
		defer in.Connections.Add(context.WithoutCancel(r.Context()), -1)
	}
	s := &sseStream{api: a, w: w, flusher: flusher, cursors: cursors, colls: colls}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		if err := s.catchUp(r.Context()); err != nil {
			if !errors.Is(err, context.Canceled) {
				a.cfg.Logger.WarnContext(r.Context(), "stream ended", "err", err)
			}
			return
		}
		select {
		case <-sub.C:
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-a.drain:
			return // the node is shutting down: the client reconnects elsewhere
		}
	}
}

// openStream authenticates a stream request and finds where it starts.
func (a *API) openStream(r *http.Request) ([]string, map[string]uint64, error) {
	p, err := a.authenticate(r)
	if err == nil {
		err = a.retention.check(r)
	}
	if err != nil {
		return nil, nil, err
	}
	list := r.URL.Query().Get("collections")
	if list == "" {
		return nil, nil, errorf(http.StatusBadRequest, "invalid_parameter", "name the collections: ?collections=a,b").with("parameter", "collections")
	}
	colls := strings.Split(list, ",")
	slices.Sort(colls)
	colls = slices.Compact(colls)
	for _, c := range colls {
		if _, ok := a.lookup(c); !ok {
			return nil, nil, errorf(http.StatusNotFound, protocol.CodeUnknownCollection, "collection %q is not served here", c).with("collection", c)
		}
		if !p.Can(auth.Read, c) {
			return nil, nil, errorf(http.StatusForbidden, protocol.CodeForbidden, "token lacks scope read:%s", c).with("scope", "read:"+c)
		}
	}
	cursors, err := startCursors(r, colls)
	return colls, cursors, err
}

// startCursors reads Last-Event-ID (a stream id) or ?checkpoint= (a pull checkpoint,
// for every listed collection); with neither the stream starts at the beginning.
func startCursors(r *http.Request, colls []string) (map[string]uint64, error) {
	cursors := map[string]uint64{}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		parsed, err := parseStreamID(id)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_checkpoint", "Last-Event-ID: %v", err)
		}
		for _, c := range colls {
			cursors[c] = parsed[c]
		}
		return cursors, nil
	}
	seq, err := feed.Parse(r.URL.Query().Get("checkpoint"))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_checkpoint", "%v", err)
	}
	for _, c := range colls {
		cursors[c] = seq
	}
	return cursors, nil
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

type sseStream struct {
	api     *API
	w       http.ResponseWriter
	flusher http.Flusher
	cursors map[string]uint64
	colls   []string
}

// catchUp sends every change after the cursors, page by page.
func (s *sseStream) catchUp(ctx context.Context) error {
	for _, c := range s.colls {
		for more := true; more; {
			page, err := s.api.cfg.Store.Changes(ctx, c, s.cursors[c], s.api.cfg.DefaultPullLimit)
			if err != nil {
				return fmt.Errorf("read feed of %s: %w", c, err)
			}
			more = page.HasMore
			s.cursors[c] = max(s.cursors[c], page.Next)
			if len(page.Records) == 0 {
				continue
			}
			data := protocol.StreamChange{Collection: c, Changes: toChanges(page.Records)}
			span := s.api.deliverySpan(ctx, c, len(page.Records))
			err = s.send("change", data)
			span.End()
			if err != nil {
				return err
			}
			s.recordLag(ctx, c)
		}
	}
	return nil
}

func (s *sseStream) send(event string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "event: %s\nid: %s\ndata: %s\n\n", event, streamID(s.cursors), raw)
	s.flusher.Flush()
	return err
}

// streamID encodes every collection's cursor: "s1.orders=5,parts=1a" (base 36).
func streamID(cursors map[string]uint64) string { return "s1." + formatPositions(cursors) }

func parseStreamID(id string) (map[string]uint64, error) {
	rest, ok := strings.CutPrefix(id, "s1.")
	if !ok || len(id) > 8192 {
		return nil, fmt.Errorf("%q is not a stream event id of this server", id)
	}
	out := map[string]uint64{}
	for _, part := range strings.Split(rest, ",") {
		name, seq, ok := strings.Cut(part, "=")
		n, err := strconv.ParseUint(seq, 36, 64)
		if !ok || err != nil || !collectionName.MatchString(name) {
			return nil, fmt.Errorf("%q is not a stream event id of this server", id)
		}
		out[name] = n
	}
	return out, nil
}

// deliveryTracer names the spans of stream deliveries.
var deliveryTracer = otel.Tracer("github.com/lattice-sync/lattice/syncnode/httpapi")

// deliverySpan starts the span of one stream event carrying n changes of coll, as
// a child of the push that last changed coll (on whichever node it ran), so one
// trace shows a push and its deliveries on every replica.
func (a *API) deliverySpan(ctx context.Context, coll string, n int) trace.Span {
	if tp := a.cfg.Hub.LastTraceParent(coll); tp != "" {
		parent := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.SpanContextFromContext(parent))
	}
	_, span := deliveryTracer.Start(ctx, "stream.deliver", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("collection", coll), attribute.Int("changes", n)))
	return span
}

// recordLag records the time since the collection's latest commit was published.
func (s *sseStream) recordLag(ctx context.Context, coll string) {
	in := s.api.cfg.Instruments
	at := s.api.cfg.Hub.LastEventAt(coll)
	if in == nil || at == 0 {
		return
	}
	lag := time.Since(time.UnixMilli(at)).Seconds()
	in.FeedLag.Record(ctx, max(lag, 0), metric.WithAttributes(attribute.String("collection", coll)))
}
