// Package httpapi serves the native endpoints of PROTOCOL.md (push, pull, schema,
// stream) and the service endpoints (healthz, readyz, metrics), with the error
// format every client relies on. Handlers only translate HTTP; merging is package
// merge's, reading the feed is the store's.
package httpapi
