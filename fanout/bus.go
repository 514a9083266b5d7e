package fanout

import "context"

// Event says that changes committed in a collection.
type Event struct {
	// Collection is the collection that changed.
	Collection string `json:"c"`
	// IDs are the changed documents.
	IDs []string `json:"ids,omitempty"`
	// Seq is the greatest feed position the commit produced.
	Seq uint64 `json:"seq"`
	// TraceParent links deliveries to the push that caused them (W3C traceparent).
	TraceParent string `json:"tp,omitempty"`
	// At is when the commit was published, in Unix milliseconds (for feed lag).
	At int64 `json:"at,omitempty"`
}

// Bus carries events between the nodes of a tenant.
type Bus interface {
	// Publish sends e to every subscriber of every node. It does not block on
	// slow subscribers.
	Publish(ctx context.Context, e Event) error
	// Subscribe delivers every event published after it returns to handle, until
	// ctx ends. handle must not block for long.
	Subscribe(ctx context.Context, handle func(Event)) error
	// Close releases the bus.
	Close() error
}
