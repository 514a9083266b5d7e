package merge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/schema"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Collection is what the engine needs to know of a collection.
type Collection struct {
	Name   string
	Fields crdt.Fields
	// Schema, when set, must accept every document a push produces.
	Schema *schema.Schema
}

// Writer is who sends a push: the device id the client names (Lattice-Client, the
// actor its clocks carry) and the internal actor the node bound it to
// (auth.Principal.Actor), under which the writes are recorded.
type Writer struct {
	Device string
	Actor  string
}

// Config configures an Engine. Zero fields take defaults.
type Config struct {
	// Store persists documents (required).
	Store store.Store
	// NodeID is the actor of clocks this node stamps (default "lattice").
	NodeID string
	// Now returns wall time in Unix milliseconds (default time.Now).
	Now func() int64
	// MaxClockAheadMillis bounds client clocks ahead of server time (0: 1 minute).
	MaxClockAheadMillis int64
	// SkewPolicy says what to do with a clock beyond the bound (default reject).
	SkewPolicy crdt.SkewPolicy
	// Limits bound each mutation.
	Limits crdt.Limits
	// MaxDocBytes bounds a document's materialised JSON, and its merge state with
	// its version (default 1 MiB).
	MaxDocBytes int
	// Publish, when set, is told of every commit (for live fanout).
	Publish func(ctx context.Context, collection string, committed []store.Record)
	// MaxRetries bounds re-merges after compare-and-swap conflicts (default 20).
	MaxRetries int
	// Tracer traces each push (default: the global tracer provider's).
	Tracer trace.Tracer
	// Metrics records merge latency and mutation counts (optional).
	Metrics *telemetry.Instruments
	// KnownIDs bounds how many document ids the engine remembers as stored, half of
	// them at least (default 100,000); see blind.go.
	KnownIDs int
}

// Engine merges pushes into the store. It is safe for concurrent use.
type Engine struct {
	cfg   Config
	mu    sync.Mutex
	clock crdt.Clock
	blind bool      // the store wants blind writes (blind.go)
	known *knownIDs // ids seen stored, which are read before writing
	// sampled counts committed documents, to measure one in bloatSampleEvery.
	sampled atomic.Uint64
}

// New returns an Engine with cfg's defaults filled in.
func New(cfg Config) *Engine {
	if cfg.NodeID == "" {
		cfg.NodeID = "lattice"
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if cfg.MaxClockAheadMillis <= 0 {
		cfg.MaxClockAheadMillis = 60_000
	}
	if cfg.MaxDocBytes <= 0 {
		cfg.MaxDocBytes = 1 << 20
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 20
	}
	if cfg.Tracer == nil {
		cfg.Tracer = otel.Tracer(telemetry.Name)
	}
	if cfg.KnownIDs <= 0 {
		cfg.KnownIDs = 100_000
	}
	e := &Engine{cfg: cfg, blind: blindWrites(cfg.Store), known: newKnownIDs(cfg.KnownIDs)}
	e.clock = crdt.Clock{Actor: cfg.NodeID, MaxAheadMillis: cfg.MaxClockAheadMillis, Policy: cfg.SkewPolicy}
	return e
}

// Result is the outcome of a push: the version of each mutation's document after the
// push, in request order, and a feed position (a valid pull checkpoint) at or after
// the last change it committed.
type Result struct {
	Versions []protocol.PushResult
	Seq      uint64
	// Pending, when above Seq, is the position of a document the push found already
	// written (a retry) by a commit whose position the feed does not hold yet: a node
	// that died mid-allocation leaves it so until the lease ends. Seq stays below it,
	// so the answer does not wait; a caller that needs the position itself calls
	// AwaitFeed.
	Pending uint64
}

// Error is a refusal of a whole push: nothing of it was written.
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Message }

// ErrConflictRetries reports a document that kept changing under the push.
var ErrConflictRetries = errors.New("document kept changing concurrently; retry the push")

// Push applies mutations sent by writer to collection. It validates the whole batch
// before writing anything; a returned *Error means nothing was written. A push
// returns after the store made every change durable.
func (e *Engine) Push(ctx context.Context, coll Collection, writer Writer, ws []protocol.Mutation) (res Result, err error) {
	ctx, span := e.cfg.Tracer.Start(ctx, "merge.push", trace.WithAttributes(
		attribute.String("lattice.collection", coll.Name), attribute.String("lattice.actor", writer.Actor),
		attribute.Int("lattice.mutations", len(ws))))
	start := time.Now()
	defer func() { e.observe(ctx, span, coll.Name, len(ws), start, err) }()
	batch, err := e.parse(coll, writer, ws)
	if err != nil {
		return Result{}, err
	}
	docs, err := e.mergeAndCommit(ctx, coll, batch)
	if err != nil {
		return Result{}, err
	}
	res = Result{Versions: make([]protocol.PushResult, len(ws))}
	for i, m := range batch.mutations {
		d := docs[m.ID]
		res.Versions[i] = protocol.PushResult{ID: m.ID, Version: d.version}
		if d.unchanged {
			res.Pending = max(res.Pending, d.seq)
		} else {
			res.Seq = max(res.Seq, d.seq)
		}
	}
	return res, e.settle(ctx, coll.Name, &res)
}

// settle raises res.Seq to cover the documents the push left unchanged, as far as
// the feed holds them now: a checkpoint below a change only repeats it in the next
// pull, one above the feed would be refused.
func (e *Engine) settle(ctx context.Context, collection string, res *Result) error {
	if res.Pending <= res.Seq {
		res.Pending = 0
		return nil
	}
	head, err := e.cfg.Store.Head(ctx, collection)
	if err != nil {
		return fmt.Errorf("read the feed head of %s: %w", collection, err)
	}
	res.Seq = max(res.Seq, min(res.Pending, head))
	if res.Pending <= head {
		res.Pending = 0
	}
	return nil
}

// Check validates a push as Push would, merging it into the documents as stored now,
// but writes nothing: a returned *Error is what Push would refuse. A push spanning
// several collections checks every part before writing any.
func (e *Engine) Check(ctx context.Context, coll Collection, writer Writer, ws []protocol.Mutation) error {
	b, err := e.parse(coll, writer, ws)
	if err != nil {
		return err
	}
	_, err = e.mergeDocs(ctx, coll, b, b.order, mergePass{first: true})
	return err
}

// observe ends a push's span and records its metrics.
func (e *Engine) observe(ctx context.Context, span trace.Span, coll string, n int, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused"
		var pe *Error
		if !errors.As(err, &pe) {
			outcome = "failed"
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
	if m := e.cfg.Metrics; m != nil {
		attrs := metric.WithAttributes(attribute.String("collection", coll), attribute.String("outcome", outcome))
		m.Mutations.Add(ctx, int64(n), attrs)
		m.MergeDuration.Record(ctx, time.Since(start).Seconds(), attrs)
	}
}

// mutationError turns a crdt validation error of mutation i into a push Error.
func mutationError(i int, id string, err error) *Error {
	var me *crdt.MutationError
	if errors.As(err, &me) {
		status := 400
		if me.Code == protocol.CodeTooLarge {
			status = 413
		}
		return &Error{Status: status, Code: me.Code, Message: fmt.Sprintf("mutation %d (%s): %s", i, id, me.Error()),
			Details: map[string]any{"mutation": i, "id": id, "field": me.Field}}
	}
	return &Error{Status: 400, Code: protocol.CodeInvalidMutation, Message: fmt.Sprintf("mutation %d (%s): %v", i, id, err),
		Details: map[string]any{"mutation": i, "id": id}}
}
