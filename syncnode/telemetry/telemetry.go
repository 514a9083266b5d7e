package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of Lattice's spans and metrics.
const Name = "github.com/lattice-sync/lattice"

// Telemetry holds a node's providers and instruments.
type Telemetry struct {
	Tracer      trace.Tracer
	Meter       metric.Meter
	Instruments *Instruments
	tp          *sdktrace.TracerProvider
	mp          *sdkmetric.MeterProvider
	registry    *prometheus.Registry
}

// Setup builds the providers for a node of tenant and installs them (and the W3C
// trace-context propagator) as the process's globals. Extra span processors (tests
// pass a recorder) see every span.
func Setup(ctx context.Context, tenant string, extra ...sdktrace.SpanProcessor) (*Telemetry, error) {
	res := resource.NewSchemaless(semconv.ServiceName("lattice"), semconv.ServiceNamespace(tenant))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, p := range extra {
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t := &Telemetry{Tracer: tp.Tracer(Name), Meter: mp.Meter(Name), tp: tp, mp: mp, registry: reg}
	if t.Instruments, err = newInstruments(t.Meter); err != nil {
		return nil, err
	}
	return t, nil
}

// MetricsHandler serves the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}
