package syncnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/live"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

// Node is one running sync node: the store, the merge engine and the HTTP server.
type Node struct {
	cfg     config.Config
	store   store.Store
	api     *httpapi.API
	metrics http.Handler
	logger  *slog.Logger
	ln      net.Listener
	adminLn net.Listener
}

// Deps are what a node is wired from, besides its configuration.
type Deps struct {
	Store     store.Store
	Bus       fanout.Bus
	Auth      auth.Authenticator
	Logger    *slog.Logger
	Telemetry *telemetry.Telemetry
}

// New wires a node from a validated configuration and its dependencies; the node's
// hub listens to the bus until ctx ends.
func New(ctx context.Context, cfg config.Config, deps Deps) (*Node, error) {
	st, logger, tel := deps.Store, deps.Logger, deps.Telemetry
	hub, err := fanout.NewHub(ctx, fanout.HubConfig{Bus: deps.Bus, Head: st.Head,
		PollInterval: cfg.Fanout.PollInterval.Duration})
	if err != nil {
		return nil, fmt.Errorf("subscribe to the bus: %w", err)
	}
	traced := store.Store(telemetry.TraceStore(st, tel.Tracer))
	engine := merge.New(merge.Config{
		Tracer:              tel.Tracer,
		Metrics:             tel.Instruments,
		Publish:             publisher(deps.Bus, logger),
		Store:               traced,
		NodeID:              "node-" + cfg.Tenant,
		MaxClockAheadMillis: cfg.Clock.MaxAhead.Milliseconds(),
		SkewPolicy:          cfg.SkewPolicy(),
		Limits:              cfg.CRDTLimits(),
		MaxDocBytes:         cfg.Limits.MaxDocBytes,
	})
	api := httpapi.New(httpapi.Config{MaxStreams: cfg.Limits.MaxStreams,
		AllowedOrigins: cfg.CORS.AllowedOrigins, LocalhostOnly: cfg.Server.LocalhostOnly,
		Engine: engine, Store: traced, Collections: cfg.CollectionSet(), Auth: deps.Auth, Hub: hub, Logger: logger,
		Metrics: mainMetrics(cfg, tel.MetricsHandler()), Instruments: tel.Instruments,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, MaxBatch: cfg.Limits.MaxBatch, MaxPageBytes: cfg.Limits.MaxPageBytes,
		RequestsPerSecond: cfg.Limits.RequestsPerSecond, Burst: cfg.Limits.Burst,
		PerAddressRequestsPerSecond: cfg.Limits.PerAddressRequestsPerSecond, PerAddressBurst: cfg.Limits.PerAddressBurst,
		MaxStreamsPerSubject: cfg.Limits.MaxStreamsPerSubject,
		Retention:            cfg.Retention.Duration, Clients: clientsOf(st), BusHealth: busHealth(deps.Bus),
	})
	if err := tel.Observe(gauges(api.Feeds(), deps.Bus)); err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, store: st, api: api, metrics: tel.MetricsHandler(), logger: logger}, nil
}

// mainMetrics is the metrics handler of the main listener: none when an admin
// listener serves it.
func mainMetrics(cfg config.Config, h http.Handler) http.Handler {
	if cfg.Admin.Listen != "" {
		return nil
	}
	return h
}

// gauges are the node's live-stream and fanout values for metrics.
func gauges(feeds *live.Feeds, bus fanout.Bus) telemetry.Gauges {
	g := telemetry.Gauges{QueuedPages: func() int64 { return int64(feeds.Queued()) }}
	if rb, ok := bus.(*fanout.RedisBus); ok {
		st := rb.Stats()
		g.BusLagMillis, g.BusErrors, g.BusDropped = st.LagMillis.Load, st.Errors.Load, st.Dropped.Load
	}
	return g
}

// busHealth returns the bus's health check, or nil if it cannot fail.
func busHealth(bus fanout.Bus) func() error {
	if hr, ok := bus.(fanout.HealthReporter); ok {
		return hr.Health
	}
	return nil
}

// clientsOf returns st's client registry, or nil if it keeps none.
func clientsOf(st store.Store) store.Clients {
	c, _ := st.(store.Clients)
	return c
}

// publisher tells the bus of every commit. A failed publish only delays live
// streams (they also catch up from the store), so it is logged, not returned.
func publisher(bus fanout.Bus, logger *slog.Logger) func(context.Context, string, []store.Record) {
	return func(ctx context.Context, coll string, recs []store.Record) {
		e := fanout.Event{Collection: coll, IDs: make([]string, 0, len(recs)), At: time.Now().UnixMilli(),
			TraceParent: traceParent(ctx)}
		for _, r := range recs {
			e.IDs = append(e.IDs, r.ID)
			e.Seq = max(e.Seq, r.Seq)
		}
		if err := bus.Publish(ctx, e); err != nil {
			logger.WarnContext(ctx, "publish to the bus failed; live streams catch up later", "collection", coll, "err", err)
		}
	}
}

// traceParent returns ctx's span as a W3C traceparent ("" without one), so the
// deliveries on every node join the push's trace.
func traceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier["traceparent"]
}

// Handler returns the node's HTTP handler.
func (n *Node) Handler() http.Handler { return n.api }

// Listen binds the configured addresses (and the admin one, if any); Addr and
// AdminAddr then report them.
func (n *Node) Listen() error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", n.cfg.Listen, err)
	}
	n.ln = ln
	if n.cfg.Admin.Listen == "" {
		return nil
	}
	if n.adminLn, err = net.Listen("tcp", n.cfg.Admin.Listen); err != nil {
		ln.Close()
		return fmt.Errorf("admin.listen on %s: %w", n.cfg.Admin.Listen, err)
	}
	return nil
}

// Addr returns the bound address (after Listen).
func (n *Node) Addr() string { return n.ln.Addr().String() }

// AdminAddr returns the bound admin address ("" without one).
func (n *Node) AdminAddr() string {
	if n.adminLn == nil {
		return ""
	}
	return n.adminLn.Addr().String()
}

// Serve serves HTTP (HTTPS with tls configured) until ctx ends, then shuts down
// gracefully: in-flight pushes finish (up to drain), then the store closes.
func (n *Node) Serve(ctx context.Context, drain time.Duration) error {
	sc := n.cfg.Server.WithDefaults()
	srv := &http.Server{Handler: n.api, ReadHeaderTimeout: sc.ReadHeaderTimeout.Duration,
		ReadTimeout: sc.ReadTimeout.Duration, IdleTimeout: sc.IdleTimeout.Duration, MaxHeaderBytes: sc.MaxHeaderBytes}
	srv.RegisterOnShutdown(n.api.Drain)
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() { errc <- n.serveMain(srv, newLimitListener(n.ln, sc.MaxConnections)) }()
	if n.adminLn != nil {
		admin := &http.Server{Handler: n.api.AdminHandler(n.metrics), ReadHeaderTimeout: sc.ReadHeaderTimeout.Duration}
		servers = append(servers, admin)
		go func() { errc <- admin.Serve(n.adminLn) }()
	}
	n.logger.Info("lattice node serving", "addr", n.Addr(), "admin", n.AdminAddr(), "tls", n.cfg.TLS.CertFile != "",
		"tenant", n.cfg.Tenant, "store", n.cfg.Store.Kind)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		n.logger.Info("shutting down: finishing in-flight requests", "drain", drain.String())
	}
	err = errors.Join(ignoreClosed(err), shutdown(servers, drain))
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, n.store.Close(cctx))
}

// serveMain serves the API on ln, over TLS when configured.
func (n *Node) serveMain(srv *http.Server, ln net.Listener) error {
	if t := n.cfg.TLS; t.CertFile != "" {
		return srv.ServeTLS(ln, t.CertFile, t.KeyFile)
	}
	return srv.Serve(ln)
}

// shutdown stops every server, letting in-flight requests finish for up to drain.
func shutdown(servers []*http.Server, drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	var errs []error
	for _, s := range servers {
		errs = append(errs, ignoreClosed(s.Shutdown(ctx)))
	}
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
