package telemetry

import (
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
