package merge

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// bloatSampleEvery: one committed document in this many is measured for the bloat
// metrics (parsing its version costs a little; the push path should not pay it for
// every document).
const bloatSampleEvery = 16

// sampleBloat records the bloat metrics of some of the committed records.
func (e *Engine) sampleBloat(ctx context.Context, coll string, committed []store.Record) {
	m := e.cfg.Metrics
	if m == nil || m.MetadataBytes == nil {
		return
	}
	attrs := metric.WithAttributes(attribute.String("lattice.collection", coll))
	for _, rec := range committed {
		if e.sampled.Add(1)%bloatSampleEvery != 0 {
			continue
		}
		m.MetadataBytes.Record(ctx, int64(max(0, len(rec.State)+len(rec.Version)-len(rec.Doc))), attrs)
		if vv, err := crdt.ParseVersion(rec.Version); err == nil {
			m.DocClients.Record(ctx, int64(len(vv)), attrs)
		}
		m.DocWrites.Add(ctx, 1, attrs, metric.WithAttributes(attribute.Bool("deleted", rec.Deleted)))
	}
}
