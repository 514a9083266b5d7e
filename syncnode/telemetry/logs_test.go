package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler{Handler: slog.NewJSONHandler(&buf, nil)}).With("node", "n1")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "inside")
	span.End()
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := `"trace_id":"` + span.SpanContext().TraceID().String() + `"`
	if !strings.Contains(lines[0], want) || !strings.Contains(lines[0], `"span_id"`) {
		t.Fatalf("record inside a span lacks ids: %s", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Fatalf("record outside a span has ids: %s", lines[1])
	}
}
