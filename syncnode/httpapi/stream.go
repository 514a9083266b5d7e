package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/live"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// stream serves GET /v1/stream: every change of the listed collections after the
// client's position, then live ones (sseStream).
func (a *API) stream(w http.ResponseWriter, r *http.Request) {
	err := a.addrLimit.check(addressKey(r))
	var spec streamSpec
	if err == nil {
		spec, err = a.openStream(r)
	}
	if err == nil {
		err = a.serveStream(w, r, spec)
	}
	if err != nil {
		writeError(w, toAPIError(err))
	}
}

// nativeFormat is /v1/stream's: "change" events whose id holds every cursor.
var nativeFormat = sseFormat{name: "native", event: "change", id: streamID, retryMillis: 2000,
	encoder: func(coll string) live.Encoder {
		return func(page store.Page) ([]byte, error) {
			return json.Marshal(protocol.StreamChange{Collection: coll, Changes: toChanges(page.Records)})
		}
	}}

// openStream authenticates a stream request and finds where it starts.
func (a *API) openStream(r *http.Request) (streamSpec, error) {
	p, err := a.authenticate(r)
	if err != nil {
		return streamSpec{}, err
	}
	list := r.URL.Query().Get("collections")
	if list == "" {
		return streamSpec{}, errorf(http.StatusBadRequest, "invalid_parameter", "name the collections: ?collections=a,b").with("parameter", "collections")
	}
	colls := strings.Split(list, ",")
	slices.Sort(colls)
	colls = slices.Compact(colls)
	for _, c := range colls {
		if _, ok := a.lookup(c); !ok {
			return streamSpec{}, errorf(http.StatusNotFound, protocol.CodeUnknownCollection, "collection %q is not served here", c).with("collection", c)
		}
		if !p.Can(auth.Read, c) {
			return streamSpec{}, errorf(http.StatusForbidden, protocol.CodeForbidden, "token lacks scope read:%s", c).with("scope", "read:"+c)
		}
	}
	caller, err := a.admitCaller(r, p)
	if err != nil {
		return streamSpec{}, err
	}
	cursors, err := startCursors(r, colls)
	return streamSpec{format: nativeFormat, colls: colls, cursors: cursors, expires: p.Expires, caller: caller}, err
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

// deliveryTracer names the spans of live deliveries.
var deliveryTracer = otel.Tracer("github.com/lattice-sync/lattice/syncnode/live")

// pageObserver traces and measures every page a tail hands to this node's
// streams: a "live.deliver" span whose parent is the push that last changed the
// collection (on whichever node it ran), so one trace shows a push and its
// deliveries on every replica, and the feed lag since that push was published.
func pageObserver(hub *fanout.Hub, in *telemetry.Instruments) func(*live.Page, int) {
	return func(p *live.Page, streams int) {
		at, tp := hub.LastEvent(p.Collection)
		ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
		_, span := deliveryTracer.Start(ctx, "live.deliver", trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("collection", p.Collection), attribute.Int("changes", len(p.Records)),
				attribute.Int("streams", streams)))
		span.End()
		if in == nil || at == 0 {
			return
		}
		lag := time.Since(time.UnixMilli(at)).Seconds()
		in.FeedLag.Record(ctx, max(lag, 0), metric.WithAttributes(attribute.String("collection", p.Collection)))
	}
}
