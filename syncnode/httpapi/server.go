package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/live"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Collections resolves collection names to their configuration.
type Collections interface {
	// Lookup returns the collection called name, or false if the node does not
	// serve it.
	Lookup(name string) (merge.Collection, bool)
}

// Config configures the API. Zero limits take defaults.
type Config struct {
	Engine      *merge.Engine
	Store       store.Store
	Collections Collections
	Auth        auth.Authenticator
	// Hub wakes live streams when collections change.
	Hub    *fanout.Hub
	Logger *slog.Logger
	// Metrics serves GET /metrics (optional; a node with an admin listener serves
	// it there instead, AdminHandler).
	Metrics http.Handler
	// Instruments records request, connection and feed-lag metrics (optional).
	Instruments *telemetry.Instruments
	// MaxBodyBytes bounds a request body (default 4 MiB).
	MaxBodyBytes int64
	// MaxBatch bounds the mutations of one push (default 1000).
	MaxBatch int
	// DefaultPullLimit and MaxPullLimit bound pull pages (defaults 1000 and 10000).
	DefaultPullLimit, MaxPullLimit int
	// MaxPageBytes bounds the documents of one pull page or stream event (default
	// 8 MiB; a page always holds at least one document).
	MaxPageBytes int
	// RequestsPerSecond and Burst bound each client's requests to the collection
	// endpoints (429 rate_limited beyond); 0 turns the limit off.
	RequestsPerSecond float64
	Burst             int
	// PerAddressRequestsPerSecond and PerAddressBurst bound each remote address's
	// requests before authentication (429); 0 turns it off (behind a proxy every
	// client shares its address).
	PerAddressRequestsPerSecond float64
	PerAddressBurst             int
	// MaxStreamsPerSubject bounds the streams one token subject has open on the
	// node (429 rate_limited beyond); 0 means no bound.
	MaxStreamsPerSubject int
	// Clients and Retention: a client not seen for longer than Retention must reset
	// (410 client_reset_required); zero or nil turns this off.
	Clients   store.Clients
	Retention time.Duration
	// Feeds shares feed reads among live streams (default: one of its own, over
	// Store and Hub).
	Feeds *live.Feeds
	// MaxStreams bounds the live streams open on the node (503 unavailable with
	// Retry-After beyond); 0 means no bound.
	MaxStreams int
	// AllowedOrigins are the web origins allowed to call the API from a page
	// (CORS): "*", exact origins, or "scheme://host:*" for any port. None: no CORS.
	AllowedOrigins []string
	// LocalhostOnly refuses requests whose Host is not the loopback (lattice dev:
	// a web page cannot reach it through DNS rebinding).
	LocalhostOnly bool
	// BusHealth, when set, reports whether events flow between nodes; while it
	// errs, /readyz answers "degraded" (the node still serves: the store is the
	// truth and streams poll it).
	BusHealth func() error
}

// API serves the HTTP endpoints.
type API struct {
	cfg       Config
	limit     *limiter
	retention *retention
	mux       *http.ServeMux
	drain     chan struct{}
	drainOnce sync.Once
	feeds     *live.Feeds
	streams   atomic.Int64
	addrLimit *limiter
	perSub    subjectStreams
	detached  detachedSet
	stopFeeds context.CancelFunc
}

// New returns the API with cfg's defaults filled in.
func New(cfg Config) *API {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.DefaultPullLimit <= 0 {
		cfg.DefaultPullLimit = 1000
	}
	if cfg.MaxPullLimit <= 0 {
		cfg.MaxPullLimit = 10000
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = 8 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	if cfg.Feeds == nil {
		cfg.Feeds = live.New(ctx, live.Config{Store: cfg.Store, Hub: cfg.Hub, Logger: cfg.Logger, PageBytes: cfg.MaxPageBytes,
			OnPage: pageObserver(cfg.Hub, cfg.Instruments)})
	}
	a := &API{cfg: cfg, mux: http.NewServeMux(), drain: make(chan struct{}), limit: newLimiter(cfg.RequestsPerSecond, cfg.Burst),
		retention: newRetention(cfg.Clients, cfg.Retention), feeds: cfg.Feeds, stopFeeds: stop,
		addrLimit: newLimiter(cfg.PerAddressRequestsPerSecond, cfg.PerAddressBurst)}
	a.routes()
	return a
}

func (a *API) routes() {
	a.route("POST /v1/collections/{collection}/push", a.handle(auth.Write, a.push))
	a.route("GET /v1/collections/{collection}/pull", a.handle(auth.Read, a.pull))
	a.route("GET /v1/collections/{collection}/schema", a.handle(auth.Read, a.schema))
	a.route("GET /v1/stream", a.stream)
	a.rxdbRoutes()
	a.signaldbRoutes()
	a.watermelonRoutes()
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /readyz", a.readyz)
	if a.cfg.Metrics != nil {
		a.mux.Handle("GET /metrics", a.cfg.Metrics)
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, protocol.CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})
}

// route registers h for pattern with a server span (trace context taken from the
// request's traceparent) and the request counter.
func (a *API) route(pattern string, h http.HandlerFunc) {
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		if in := a.cfg.Instruments; in != nil {
			in.Requests.Add(r.Context(), 1, metric.WithAttributes(
				attribute.String("route", pattern), attribute.Int("status", sw.status)))
		}
	})
	a.mux.Handle(pattern, otelhttp.NewHandler(counted, pattern))
}

// statusWriter remembers the status code; it passes Flush through for SSE.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (streams take it over).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Drain ends every live stream cleanly, so clients reconnect to another node; the
// node calls it when it starts shutting down.
func (a *API) Drain() {
	a.drainOnce.Do(func() {
		close(a.drain)
		a.drainDetached()
		a.stopFeeds()
	})
}

// AdminHandler serves what operators scrape and probe, for a listener of its own:
// GET /metrics (when metrics is set), /healthz and /readyz.
func (a *API) AdminHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	return mux
}

// Feeds returns the node's shared feed readers (for metrics).
func (a *API) Feeds() *live.Feeds { return a.feeds }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.guard(w, r) {
		a.mux.ServeHTTP(w, r)
	}
}

// request is what every collection endpoint gets after authentication.
type request struct {
	r          *http.Request
	principal  auth.Principal
	collection merge.Collection
}

type handlerFunc func(w http.ResponseWriter, req *request) error

// internalPrefix marks the node's own collections (PositionsCollection); no
// endpoint serves them.
const internalPrefix = "_lattice"

var collectionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// handle authenticates, resolves the collection, checks the scope for action and
// turns the handler's error into a PROTOCOL.md error response.
func (a *API) handle(action auth.Action, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := a.addrLimit.check(addressKey(r))
		var req *request
		if err == nil {
			req, err = a.authorize(r, action)
		}
		if err == nil {
			_, err = a.admitCaller(r, req.principal)
		}
		if err == nil {
			err = h(w, req)
		}
		if err != nil {
			e := toAPIError(err)
			if e.status >= 500 {
				a.cfg.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, e)
		}
	}
}

// admitCaller counts an authorised request against its caller's rate limit, then
// records its client as seen (retention: only once authorised, since it writes to
// the store). It returns the caller key (callerKey).
func (a *API) admitCaller(r *http.Request, p auth.Principal) (string, error) {
	caller := callerKey(r, p)
	if err := a.limit.check(caller); err != nil {
		return caller, err
	}
	return caller, a.retention.check(r, p)
}

// authenticate maps authentication failures to 401 and 403.
func (a *API) authenticate(r *http.Request) (auth.Principal, error) {
	p, err := a.cfg.Auth.Authenticate(r)
	switch {
	case errors.Is(err, auth.ErrForbidden):
		return p, errorf(http.StatusForbidden, protocol.CodeForbidden, "%v", err)
	case err != nil:
		return p, errorf(http.StatusUnauthorized, protocol.CodeUnauthenticated, "%v", err)
	}
	return p, nil
}

func (a *API) authorize(r *http.Request, action auth.Action) (*request, error) {
	p, err := a.authenticate(r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("collection")
	coll, ok := a.lookup(name)
	if !ok {
		return nil, errorf(http.StatusNotFound, protocol.CodeUnknownCollection, "collection %q is not served here", name).with("collection", name)
	}
	if !p.Can(action, name) {
		return nil, errorf(http.StatusForbidden, protocol.CodeForbidden, "token lacks scope %s:%s", action, name).with("scope", string(action)+":"+name)
	}
	return &request{r: r, principal: p, collection: coll}, nil
}

func (a *API) lookup(name string) (merge.Collection, bool) {
	if !collectionName.MatchString(name) || strings.HasPrefix(name, internalPrefix) {
		return merge.Collection{}, false
	}
	return a.cfg.Collections.Lookup(name)
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := a.cfg.Store.Ping(ctx); err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "not ready: the store does not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable",
			"store": "unreachable; see the node's log"})
		return
	}
	if a.cfg.BusHealth != nil {
		if err := a.cfg.BusHealth(); err != nil {
			writeJSON(w, http.StatusOK, map[string]string{"status": "degraded",
				"fanout": "Redis unreachable: live streams poll the store; see the node's log"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
