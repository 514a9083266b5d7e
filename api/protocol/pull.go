package protocol

import "encoding/json"

// PullResponse is the body of GET /v1/collections/{collection}/pull.
type PullResponse struct {
	Changes       []Change `json:"changes"`
	Checkpoint    string   `json:"checkpoint"`
	HasMore       bool     `json:"hasMore"`
	SchemaVersion string   `json:"schemaVersion,omitempty"`
}

// Change is the latest state of one changed document.
type Change struct {
	ID      string            `json:"id"`
	Deleted bool              `json:"deleted"`
	Version string            `json:"version"`
	Doc     json.RawMessage   `json:"doc"`
	Clocks  map[string]string `json:"clocks,omitempty"`
}

// StreamChange is the data of an SSE `change` event.
type StreamChange struct {
	Collection string   `json:"collection"`
	Changes    []Change `json:"changes"`
}

// StreamResync is the data of an SSE `resync` event.
type StreamResync struct {
	Collection string `json:"collection"`
	Reason     string `json:"reason"`
}

// SchemaResponse is the body of GET /v1/collections/{collection}/schema.
type SchemaResponse struct {
	Collection string            `json:"collection"`
	Version    string            `json:"version"`
	Schema     json.RawMessage   `json:"schema"`
	Types      map[string]string `json:"types"`
}
