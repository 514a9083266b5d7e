// Package telemetry sets up OpenTelemetry for a sync node: a tracer provider
// (exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set), a meter provider
// read by a Prometheus exporter served on /metrics, the node's instruments, a store
// decorator that traces every store call, and a slog handler that stamps log records
// with the trace and span ids of their context.
package telemetry
