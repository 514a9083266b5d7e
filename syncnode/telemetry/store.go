package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// TracedStore wraps a store.Store with a span per call.
type TracedStore struct {
	store.Store
	tracer trace.Tracer
}

// TraceStore returns st with every call traced by tracer.
func TraceStore(st store.Store, tracer trace.Tracer) *TracedStore {
	return &TracedStore{Store: st, tracer: tracer}
}

func (t *TracedStore) start(ctx context.Context, op, coll string, n int) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("lattice.collection", coll), attribute.Int("lattice.documents", n)))
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// BlindInserts implements store.BlindWriter as the wrapped store does.
func (t *TracedStore) BlindInserts() bool {
	bw, ok := t.Store.(store.BlindWriter)
	return ok && bw.BlindInserts()
}

// Get implements store.Store.
func (t *TracedStore) Get(ctx context.Context, coll string, ids []string) (map[string]store.Record, error) {
	ctx, span := t.start(ctx, "Get", coll, len(ids))
	recs, err := t.Store.Get(ctx, coll, ids)
	end(span, err)
	return recs, err
}

// Commit implements store.Store.
func (t *TracedStore) Commit(ctx context.Context, coll string, ws []store.Write) (store.CommitResult, error) {
	ctx, span := t.start(ctx, "Commit", coll, len(ws))
	res, err := t.Store.Commit(ctx, coll, ws)
	span.SetAttributes(attribute.Int("lattice.conflicts", len(res.Conflicts)))
	end(span, err)
	return res, err
}

// Changes implements store.Store.
func (t *TracedStore) Changes(ctx context.Context, coll string, after uint64, limit int) (store.Page, error) {
	ctx, span := t.start(ctx, "Changes", coll, limit)
	page, err := t.Store.Changes(ctx, coll, after, limit)
	span.SetAttributes(attribute.Int("lattice.records", len(page.Records)))
	end(span, err)
	return page, err
}
