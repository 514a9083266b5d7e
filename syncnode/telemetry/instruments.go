package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// Instruments are the node's metrics.
type Instruments struct {
	// Requests counts HTTP requests by route and status code.
	Requests metric.Int64Counter
	// Mutations counts mutations pushed, by collection and outcome.
	Mutations metric.Int64Counter
	// MergeDuration is the time one push spends merging and committing.
	MergeDuration metric.Float64Histogram
	// FeedLag is the time from a commit's publication to its delivery on a stream.
	FeedLag metric.Float64Histogram
	// Connections is the number of open live streams.
	Connections metric.Int64UpDownCounter
	// StreamCuts counts live streams cut because their client fell behind.
	StreamCuts metric.Int64Counter
	// MetadataBytes, DocClients and DocWrites describe the bloat compaction
	// reclaims, from a sample of committed documents: merge metadata bytes (state and
	// version beyond the JSON), clients in the version, and writes by whether they
	// left the document deleted (the tombstone ratio).
	MetadataBytes metric.Int64Histogram
	DocClients    metric.Int64Histogram
	DocWrites     metric.Int64Counter
}

// Gauges are values read when metrics are collected; nil fields are not reported.
type Gauges struct {
	// QueuedPages is the feed pages waiting in live streams' queues.
	QueuedPages func() int64
	// BusLagMillis is the age of the latest event another node published, when
	// this node read it.
	BusLagMillis func() int64
	// BusErrors counts failed Redis commands of the fanout.
	BusErrors func() int64
	// BusDropped counts events the fanout could not publish.
	BusDropped func() int64
}

// Observe reports g's values with every metrics collection.
func (t *Telemetry) Observe(g Gauges) error {
	for _, o := range []struct {
		name, desc string
		f          func() int64
		counter    bool
	}{
		{"lattice.stream.queued_pages", "feed pages waiting in live streams' queues", g.QueuedPages, false},
		{"lattice.fanout.lag_ms", "age of the latest event from another node when read", g.BusLagMillis, false},
		{"lattice.fanout.redis_errors", "failed Redis commands of the fanout", g.BusErrors, true},
		{"lattice.fanout.dropped_events", "events the fanout could not publish", g.BusDropped, true},
	} {
		if o.f == nil {
			continue
		}
		if err := t.observe(o.name, o.desc, o.f, o.counter); err != nil {
			return fmt.Errorf("metric %s: %w", o.name, err)
		}
	}
	return nil
}

func (t *Telemetry) observe(name, desc string, f func() int64, counter bool) error {
	cb := func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(f())
		return nil
	}
	var err error
	if counter {
		_, err = t.Meter.Int64ObservableCounter(name, metric.WithDescription(desc), metric.WithInt64Callback(cb))
	} else {
		_, err = t.Meter.Int64ObservableGauge(name, metric.WithDescription(desc), metric.WithInt64Callback(cb))
	}
	return err
}

func newInstruments(m metric.Meter) (*Instruments, error) {
	var in Instruments
	var err, e error
	in.Requests, e = m.Int64Counter("lattice.http.requests", metric.WithDescription("HTTP requests by route and status"))
	err = firstErr(err, e)
	in.Mutations, e = m.Int64Counter("lattice.push.mutations", metric.WithDescription("mutations pushed, by collection and outcome"))
	err = firstErr(err, e)
	in.MergeDuration, e = m.Float64Histogram("lattice.merge.duration", metric.WithUnit("s"),
		metric.WithDescription("time to merge and durably commit one push"))
	err = firstErr(err, e)
	in.FeedLag, e = m.Float64Histogram("lattice.feed.lag", metric.WithUnit("s"),
		metric.WithDescription("time from a commit's publication to its delivery on a live stream"))
	err = firstErr(err, e)
	in.Connections, e = m.Int64UpDownCounter("lattice.stream.connections", metric.WithDescription("open live streams"))
	err = firstErr(err, e)
	in.StreamCuts, e = m.Int64Counter("lattice.stream.cuts", metric.WithDescription("live streams cut because their client fell behind"))
	err = firstErr(err, e)
	in.MetadataBytes, e = m.Int64Histogram("lattice.doc.metadata_bytes", metric.WithUnit("By"),
		metric.WithDescription("merge metadata per document (state and version beyond its JSON), sampled on commit"),
		metric.WithExplicitBucketBoundaries(64, 256, 1024, 4096, 16384, 65536, 262144, 1048576))
	err = firstErr(err, e)
	in.DocClients, e = m.Int64Histogram("lattice.doc.clients", metric.WithDescription("clients in a document's version, sampled on commit"),
		metric.WithExplicitBucketBoundaries(1, 2, 5, 10, 50, 100, 500, 1000, 10000))
	err = firstErr(err, e)
	in.DocWrites, e = m.Int64Counter("lattice.doc.sampled_writes", metric.WithDescription("sampled committed documents, by deleted (the tombstone ratio)"))
	err = firstErr(err, e)
	if err != nil {
		return nil, fmt.Errorf("create instruments: %w", err)
	}
	return &in, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
