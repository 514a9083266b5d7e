package fanout

import "context"

// Event says that changes committed in a collection.
type Event struct {
	// Collection is the collection that changed ("" in a resync event).
	Collection string `json:"c"`
	// IDs are the changed documents.
	IDs []string `json:"ids,omitempty"`
	// Seq is the greatest feed position the commit produced.
	Seq uint64 `json:"seq"`
	// TraceParent links deliveries to the push that caused them (W3C traceparent).
	TraceParent string `json:"tp,omitempty"`
	// At is when the commit was published, in Unix milliseconds (for feed lag).
	At int64 `json:"at,omitempty"`
	// Resync says that events may have been lost (Redis restarted, the stream was
	// trimmed past a reader, a publish failed): every stream must catch up from the
	// store, whatever its collections.
	Resync bool `json:"r,omitempty"`
	// Origin identifies the bus that published the event (set by the bus).
	Origin string `json:"o,omitempty"`
	// Local is true when the event was published on this node: its writes are
	// already visible to this node's own feed reads. Never sent between nodes.
	Local bool `json:"-"`
}

// Bus carries events between the nodes of a tenant.
type Bus interface {
	// Publish sends e to every subscriber of every node. It never blocks on slow
	// subscribers or on the network.
	Publish(ctx context.Context, e Event) error
	// Subscribe delivers every event published after it returns to handle, until
	// ctx ends. handle must not block for long.
	Subscribe(ctx context.Context, handle func(Event)) error
	// Close releases the bus.
	Close() error
}

// HealthReporter is implemented by buses that can be unreachable. While Health
// returns an error, nodes poll the store instead of waiting for events, and
// /readyz reports the node degraded.
type HealthReporter interface {
	// Health returns nil while events flow, or why they may not.
	Health() error
}
